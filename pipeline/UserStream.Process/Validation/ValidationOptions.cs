namespace UserStream.Process.Validation;

/// <summary>Limits a users_created record must respect. Section <c>Process:Validation</c>.</summary>
public sealed class ValidationOptions
{
    /// <summary>
    /// Largest accepted value in bytes (randomuser's users are about 1.1 KB). Larger ones are dead-lettered
    /// as <c>too_large</c>. At most 900 KB so that the dead letter, the original bytes plus headers, fits
    /// Kafka's default 1 MB message limit.
    /// </summary>
    [Range(256, 900 * 1024)]
    public int MaxRecordBytes { get; set; } = 64 * 1024;

    /// <summary>Longest accepted text field, in UTF-16 characters (<c>field_too_long</c>).</summary>
    [Range(16, 100_000)]
    public int MaxFieldLength { get; set; } = 1_024;

    /// <summary>Deepest accepted nesting of objects and arrays (randomuser's users nest 3 deep).</summary>
    [Range(4, 64)]
    public int MaxDepth { get; set; } = 10;

    /// <summary>Earliest accepted date of birth or registration.</summary>
    public DateTimeOffset EarliestDate { get; set; } = new(1900, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>How far past the processing time a registration date may lie (clock skew between services).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan AllowedClockSkew { get; set; } = TimeSpan.FromMinutes(5);
}
