namespace UserStream.Process.Routing;

/// <summary>Where one input record goes: its users_enriched record, or its dead letter.</summary>
/// <param name="Topic">The topic to produce <paramref name="Message"/> to.</param>
/// <param name="Message">The record to produce.</param>
/// <param name="RejectionCode">Null for an enriched record; the dead letter's code otherwise.</param>
/// <param name="IngestedAt">When the user was ingested (for the end-to-end latency).</param>
public sealed record RoutedRecord(string Topic, Message<string, byte[]> Message, string? RejectionCode, DateTimeOffset IngestedAt)
{
    public bool IsRejected => RejectionCode is not null;
}
