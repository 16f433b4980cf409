namespace UserStream.Streaming.DeadLettering;

/// <summary>One dead letter as people inspect it: where it is, why it was rejected, where it came from, a preview.</summary>
public sealed record DeadLetter(
    string Id,
    int Partition,
    long Offset,
    string? Key,
    string? Code,
    string? Reason,
    string? Stage,
    string? SourceTopic,
    int? SourcePartition,
    long? SourceOffset,
    DateTimeOffset? FailedAt,
    int ValueSize,
    string? ValuePreview,
    int ReplayCount,
    string? ReplayOf)
{
    /// <summary>A dead letter's identity: <c>{topic}/{partition}/{offset}</c> (the key of its replay marker).</summary>
    public static string IdOf(string topic, int partition, long offset) =>
        string.Create(CultureInfo.InvariantCulture, $"{topic}/{partition}/{offset}");

    public static DeadLetter From(ConsumeResult<string, byte[]> record, int previewBytes)
    {
        ArgumentNullException.ThrowIfNull(record);
        var headers = record.Message.Headers;
        var value = record.Message.Value;
        return new DeadLetter(
            IdOf(record.Topic, record.Partition.Value, record.Offset.Value),
            record.Partition.Value,
            record.Offset.Value,
            record.Message.Key,
            headers.GetString(DeadLetterHeaders.ErrorCode),
            headers.GetString(DeadLetterHeaders.Reason),
            headers.GetString(DeadLetterHeaders.Stage),
            headers.GetString(DeadLetterHeaders.SourceTopic),
            int.TryParse(headers.GetString(DeadLetterHeaders.SourcePartition), NumberStyles.None, CultureInfo.InvariantCulture, out var partition) ? partition : null,
            long.TryParse(headers.GetString(DeadLetterHeaders.SourceOffset), NumberStyles.None, CultureInfo.InvariantCulture, out var offset) ? offset : null,
            headers.GetTimestamp(DeadLetterHeaders.FailedAt),
            value?.Length ?? 0,
            value is null ? null : Encoding.UTF8.GetString(value, 0, Math.Min(value.Length, previewBytes)),
            ReplayCountOf(headers),
            headers.GetString(ReplayHeaders.ReplayOf));
    }

    /// <summary>The replay count a record carries (0 when it was never replayed).</summary>
    public static int ReplayCountOf(Headers? headers) =>
        int.TryParse(headers.GetString(ReplayHeaders.ReplayCount), NumberStyles.None, CultureInfo.InvariantCulture, out var count) ? count : 0;
}

/// <summary>Which dead letters a read or a replay is about; every criterion given must hold.</summary>
public sealed record DeadLetterFilter(string? Code = null, string? Stage = null, DateTimeOffset? From = null, DateTimeOffset? To = null)
{
    public static readonly DeadLetterFilter All = new();

    /// <summary>Code and stage equal (ordinal); failed at in [<see cref="From"/>, <see cref="To"/>).</summary>
    public bool Matches(DeadLetter letter)
    {
        ArgumentNullException.ThrowIfNull(letter);
        return (Code is null || string.Equals(Code, letter.Code, StringComparison.Ordinal))
            && (Stage is null || string.Equals(Stage, letter.Stage, StringComparison.Ordinal))
            && (From is null || letter.FailedAt >= From)
            && (To is null || letter.FailedAt < To);
    }
}

/// <summary>The newest dead letters matching a filter, newest first; <see cref="Complete"/> when the whole topic was looked at.</summary>
public sealed record DeadLetterPage(IReadOnlyList<DeadLetter> Items, long Scanned, bool Complete);

/// <summary>How many dead letters of one stage carry one code.</summary>
public sealed record DeadLetterCount(string? Stage, string? Code, long Count);

/// <summary>Counts by stage and code of the dead letters looked at (all of them when <see cref="Complete"/>).</summary>
public sealed record DeadLetterSummary(long Total, IReadOnlyList<DeadLetterCount> Counts, long Scanned, bool Complete);
