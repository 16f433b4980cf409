namespace UserStream.Sink.Consuming;

/// <summary>The batch in hand: its consumed records (whose offsets are committed when it is done) and their fate.</summary>
public sealed class InFlightBatch(MessageBatch batch, IReadOnlyList<SinkRecord> records)
{
    /// <summary>The consumed records still ours (revoked partitions removed).</summary>
    public MessageBatch Batch { get; private set; } = batch;

    public IReadOnlyList<SinkRecord> Records { get; } = records;

    /// <summary>Forgets the records of revoked <paramref name="partitions"/>: they are neither written nor committed here.</summary>
    public void Drop(IReadOnlyCollection<TopicPartition> partitions)
    {
        Batch = Batch.Without(partitions);
        foreach (var record in Records)
        {
            if (record.State is SinkRecordState.Pending or SinkRecordState.Superseded && partitions.Contains(record.TopicPartition))
            {
                record.State = SinkRecordState.Dropped;
            }
        }
    }
}
