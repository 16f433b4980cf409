namespace UserStream.Sink.Consuming;

/// <summary>What became of a consumed record.</summary>
public enum SinkRecordState
{
    /// <summary>Decoded, waiting for the store.</summary>
    Pending,

    /// <summary>The store confirmed it.</summary>
    Written,

    /// <summary>A later version of the same id in the same batch was written instead.</summary>
    Superseded,

    /// <summary>Sent to the dead-letter topic with <see cref="SinkRecord.Rejection"/>.</summary>
    Rejected,

    /// <summary>Its partition was revoked while the batch was in hand; its new owner handles it.</summary>
    Dropped,
}

/// <summary>One consumed record on its way through the sink, with its <c>process</c> span.</summary>
public sealed class SinkRecord(ConsumeResult<string, byte[]> consumed, Activity? process)
{
    public ConsumeResult<string, byte[]> Consumed { get; } = consumed;

    /// <summary>The span continuing the record's trace (null when nobody listens).</summary>
    public Activity? Process { get; } = process;

    /// <summary>The decoded value; null when it could not be decoded.</summary>
    public EnrichedUser? User { get; set; }

    public SinkRecordState State { get; set; } = SinkRecordState.Pending;

    public Rejection? Rejection { get; set; }

    public TopicPartition TopicPartition => Consumed.TopicPartition;
}
