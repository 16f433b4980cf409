namespace UserStream.Process.Validation;

/// <summary>
/// Typed reads of a randomuser object's fields. The first problem met is kept in <see cref="Error"/>
/// and every later read returns a default, so the caller reads everything and checks once.
/// Absent and JSON null are the same thing: "not given".
/// </summary>
internal sealed class FieldReader(int maxFieldLength)
{
    /// <summary>The characters <see cref="char.IsControl(char)"/> holds (Unicode category Cc).</summary>
    internal static readonly System.Buffers.SearchValues<char> ControlCharacters = System.Buffers.SearchValues.Create(
        [.. Enumerable.Range(0, 0x20).Select(c => (char)c), .. Enumerable.Range(0x7F, 0x21).Select(c => (char)c)]);

    public Rejection? Error { get; private set; }

    /// <summary>A nested object, or an undefined element when it is not given.</summary>
    public JsonElement Object(JsonElement parent, ReadOnlySpan<byte> name, string path, bool required = false)
    {
        var value = Get(parent, name);
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                return value;
            case JsonValueKind.Undefined or JsonValueKind.Null:
                if (required)
                {
                    Fail(DeadLetterCodes.MissingField, $"{path} is required");
                }

                return default;
            default:
                Fail(DeadLetterCodes.WrongType, $"{path} must be an object, not {Describe(value.ValueKind)}");
                return default;
        }
    }

    /// <summary>A text field; empty when not given (or a missing_field error when required).</summary>
    public string Text(JsonElement parent, ReadOnlySpan<byte> name, string path, bool required = false)
    {
        var value = Get(parent, name);
        switch (value.ValueKind)
        {
            case JsonValueKind.String:
                return Checked(value, path);
            case JsonValueKind.Undefined or JsonValueKind.Null:
                if (required)
                {
                    Fail(DeadLetterCodes.MissingField, $"{path} is required");
                }

                return "";
            default:
                Fail(DeadLetterCodes.WrongType, $"{path} must be a string, not {Describe(value.ValueKind)}");
                return "";
        }
    }

    /// <summary>A field sent as a string by some sources and a number by others (postcode, street number): as text.</summary>
    public string TextOrNumber(JsonElement parent, ReadOnlySpan<byte> name, string path)
    {
        var value = Get(parent, name);
        switch (value.ValueKind)
        {
            case JsonValueKind.String:
                return Checked(value, path);
            case JsonValueKind.Number:
                // The number exactly as written (69217, not 69217.0); JSON numbers hold no control characters.
                var text = value.GetRawText();
                return text.Length <= maxFieldLength ? text : TooLong(path);
            case JsonValueKind.Undefined or JsonValueKind.Null:
                return "";
            default:
                Fail(DeadLetterCodes.WrongType, $"{path} must be a string or a number, not {Describe(value.ValueKind)}");
                return "";
        }
    }

    /// <summary>A coordinate (randomuser sends decimal strings), null when not given or empty.</summary>
    public double? Coordinate(JsonElement parent, ReadOnlySpan<byte> name, string path, double limit)
    {
        var value = Get(parent, name);
        double number;
        switch (value.ValueKind)
        {
            case JsonValueKind.Number:
                if (!value.TryGetDouble(out number))
                {
                    Fail(DeadLetterCodes.InvalidValue, $"{path} is not a representable number");
                    return null;
                }

                break;
            case JsonValueKind.String:
                var text = Checked(value, path);
                if (text.Length == 0)
                {
                    return null;
                }

                if (!double.TryParse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out number))
                {
                    Fail(DeadLetterCodes.InvalidValue, $"{path} is not a decimal number");
                    return null;
                }

                break;
            case JsonValueKind.Undefined or JsonValueKind.Null:
                return null;
            default:
                Fail(DeadLetterCodes.WrongType, $"{path} must be a string or a number, not {Describe(value.ValueKind)}");
                return null;
        }

        if (!double.IsFinite(number) || Math.Abs(number) > limit)
        {
            Fail(DeadLetterCodes.InvalidValue, $"{path} must lie between -{limit} and {limit}");
            return null;
        }

        return number;
    }

    public void Fail(string code, string reason) => Error ??= new Rejection(code, reason);

    private JsonElement Get(JsonElement parent, ReadOnlySpan<byte> name) =>
        Error is null && parent.ValueKind == JsonValueKind.Object && parent.TryGetProperty(name, out var value) ? value : default;

    private string Checked(JsonElement value, string path)
    {
        // A string escaping half a surrogate pair ("\ud800") is well-formed JSON but no text.
        if (!TryGetString(value, out var text))
        {
            Fail(DeadLetterCodes.NotUtf8, $"{path} escapes an invalid UTF-16 sequence");
            return "";
        }

        if (text.Length > maxFieldLength)
        {
            return TooLong(path);
        }

        if (text.AsSpan().IndexOfAny(ControlCharacters) is var at and >= 0)
        {
            Fail(DeadLetterCodes.InvalidValue, $"{path} contains control character U+{(int)text[at]:X4}");
            return "";
        }

        return text;
    }

    private string TooLong(string path)
    {
        Fail(DeadLetterCodes.FieldTooLong, $"{path} is longer than {maxFieldLength} characters");
        return "";
    }

    private static bool TryGetString(JsonElement value, out string text)
    {
        try
        {
            text = value.GetString() ?? "";
            return true;
        }
        catch (InvalidOperationException)
        {
            text = "";
            return false;
        }
    }

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => kind.ToString().ToLowerInvariant(),
    };
}
