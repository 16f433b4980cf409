namespace UserStream.Process.Enrichment;

/// <summary>What the record's envelope tells about the user: when it was ingested and by which run.</summary>
public sealed record RecordContext(DateTimeOffset IngestedAt, string? RunId, string? Source)
{
    /// <summary>
    /// Ingestion time from header <c>userstream-ingested-at</c>, else the Kafka message timestamp, else
    /// <paramref name="now"/>; run id and source from their headers (absent → null).
    /// </summary>
    public static RecordContext From(Headers? headers, Timestamp timestamp, DateTimeOffset now)
    {
        var ingestedAt = headers.GetTimestamp(PipelineHeaders.IngestedAt)
            ?? (timestamp.Type != TimestampType.NotAvailable && timestamp.UnixTimestampMs > 0
                ? DateTimeOffset.FromUnixTimeMilliseconds(timestamp.UnixTimestampMs)
                : now);
        return new RecordContext(ingestedAt, headers.GetString(PipelineHeaders.RunId), headers.GetString(PipelineHeaders.Source));
    }
}
