namespace UserStream.Streaming.Hosting;

/// <summary>
/// Validation of an options class's nested sections, the one way every stage does it: data annotations (and
/// <see cref="IValidatableObject"/>) of each nested object, each error naming its full configuration key
/// (<c>Section:Nested:Member: message</c>). The framework's <c>ValidateDataAnnotations</c> does not descend into
/// nested objects; a stage's options call this from their own <see cref="IValidatableObject.Validate"/>.
/// </summary>
public static class NestedOptions
{
    public static IEnumerable<ValidationResult> Validate(string section, params (string Name, object Value)[] nested)
    {
        ArgumentNullException.ThrowIfNull(nested);
        foreach (var (name, value) in nested)
        {
            var results = new List<ValidationResult>();
            Validator.TryValidateObject(value, new ValidationContext(value), results, validateAllProperties: true);
            foreach (var result in results)
            {
                var members = result.MemberNames.ToList();
                var key = members.Count == 1 ? $"{section}:{name}:{members[0]}" : $"{section}:{name}";
                yield return new ValidationResult($"{key}: {result.ErrorMessage}", [.. members.Select(m => $"{name}.{m}")]);
            }
        }
    }
}
