namespace UserStream.Streaming.Kafka;

/// <summary>Why a record was rejected: a stable machine-readable code and a sentence for people.</summary>
public sealed record Rejection(string Code, string Reason);

/// <summary>Builds dead-letter records: the original key, value and headers untouched, plus the reason.</summary>
public static class DeadLetters
{
    /// <summary>Most characters of a reason kept in the header.</summary>
    public const int MaxReasonLength = 1_000;

    public static Message<string, byte[]> For(
        ConsumeResult<string, byte[]> source, Rejection rejection, string stage, DateTimeOffset failedAt)
    {
        var headers = new Headers();
        if (source.Message.Headers is { } original)
        {
            foreach (var header in original)
            {
                headers.Add(header.Key, header.GetValueBytes());
            }
        }

        var reason = rejection.Reason.Length <= MaxReasonLength ? rejection.Reason : rejection.Reason[..MaxReasonLength];
        headers.SetString(DeadLetterHeaders.ErrorCode, rejection.Code)
            .SetString(DeadLetterHeaders.Reason, reason)
            .SetString(DeadLetterHeaders.Stage, stage)
            .SetString(DeadLetterHeaders.SourceTopic, source.Topic)
            .SetString(DeadLetterHeaders.SourcePartition, source.Partition.Value.ToString(CultureInfo.InvariantCulture))
            .SetString(DeadLetterHeaders.SourceOffset, source.Offset.Value.ToString(CultureInfo.InvariantCulture))
            .SetTimestamp(DeadLetterHeaders.FailedAt, failedAt);

        return new Message<string, byte[]>
        {
            Key = source.Message.Key,
            Value = source.Message.Value,
            Headers = headers,
            Timestamp = source.Message.Timestamp,
        };
    }
}
