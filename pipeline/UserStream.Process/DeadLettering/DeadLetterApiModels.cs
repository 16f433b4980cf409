namespace UserStream.Process.DeadLettering;

/// <summary>
/// Body of <c>POST /dead-letters/replay</c> (optional; empty: every dead letter): which dead letters to send back.
/// Every criterion given must hold: <c>code</c> and <c>stage</c> equal, failed at in [<c>from</c>, <c>to</c>), at most
/// <c>max</c> sent (oldest first).
/// </summary>
public sealed record ReplayRequestBody(
    [property: StringLength(DeadLetterEndpoints.MaxTextLength)] string? Code = null,
    [property: StringLength(DeadLetterEndpoints.MaxTextLength)] string? Stage = null,
    DateTimeOffset? From = null,
    DateTimeOffset? To = null,
    [property: Range(1, DeadLetterEndpoints.MaxReplay)] long? Max = null) : IValidatableObject
{
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (From is { } from && To is { } to && from >= to)
        {
            yield return new ValidationResult($"'to' ({to:O}) must be later than 'from' ({from:O}).", [nameof(To)]);
        }
    }
}
