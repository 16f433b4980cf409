using System.Collections;

namespace UserStream.Streaming.Kafka;

/// <summary>Records consumed together, in consumption order.</summary>
public sealed class MessageBatch(IReadOnlyList<ConsumeResult<string, byte[]>> records, long bytes)
    : IReadOnlyList<ConsumeResult<string, byte[]>>
{
    public static readonly MessageBatch Empty = new([], 0);

    /// <summary>Sum of the values' lengths.</summary>
    public long Bytes { get; } = bytes;

    public int Count => records.Count;
    public ConsumeResult<string, byte[]> this[int index] => records[index];

    /// <summary>The offsets to commit once this batch is done: per partition, the highest offset + 1.</summary>
    public IReadOnlyList<TopicPartitionOffset> NextOffsets()
    {
        var next = new Dictionary<TopicPartition, long>();
        foreach (var record in records)
        {
            var candidate = record.Offset.Value + 1;
            if (!next.TryGetValue(record.TopicPartition, out var current) || candidate > current)
            {
                next[record.TopicPartition] = candidate;
            }
        }

        return [.. next.Select(p => new TopicPartitionOffset(p.Key, new Offset(p.Value)))];
    }

    /// <summary>
    /// This batch less the records of <paramref name="partitions"/> (e.g. revoked during a rebalance while
    /// the batch was gathered: their new owner processes them from the last committed offset).
    /// </summary>
    public MessageBatch Without(IReadOnlyCollection<TopicPartition> partitions)
    {
        if (partitions.Count == 0 || records.Count == 0)
        {
            return this;
        }

        var kept = records.Where(r => !partitions.Contains(r.TopicPartition)).ToList();
        return kept.Count == records.Count ? this : new MessageBatch(kept, kept.Sum(r => (long)(r.Message.Value?.Length ?? 0)));
    }

    public IEnumerator<ConsumeResult<string, byte[]>> GetEnumerator() => records.GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

public static class ConsumerBatchExtensions
{
    /// <summary>
    /// Consumes one micro-batch: waits up to <see cref="BatchLimits.MaxWait"/> for a first record, then
    /// gathers more until the count, byte or time limit is reached, or until no further record arrives within
    /// <see cref="BatchLimits.IdleWait"/> (by default 2 ms: the stream paused). Returns an empty batch
    /// when nothing arrived in time. Partition-EOF events are skipped. When <paramref name="cancellationToken"/>
    /// is cancelled it stops gathering and returns what it has, so that the caller can finish (drain) that
    /// batch before stopping. <paramref name="consumed"/>, when given, is called with each record as it joins the
    /// batch, before the next is consumed: work done there overlaps with the fetching of the rest of the batch.
    /// Blocking: call it from a dedicated thread.
    /// </summary>
    public static MessageBatch ConsumeBatch(
        this IConsumer<string, byte[]> consumer,
        BatchLimits limits,
        CancellationToken cancellationToken,
        Action<ConsumeResult<string, byte[]>>? consumed = null)
    {
        var records = new List<ConsumeResult<string, byte[]>>();
        long bytes = 0;
        var deadline = DateTime.UtcNow + limits.MaxWait;
        var idleUntil = DateTime.MaxValue;
        while (records.Count < limits.MaxCount && bytes < limits.MaxBytes && !cancellationToken.IsCancellationRequested)
        {
            var now = DateTime.UtcNow;
            if (now >= deadline)
            {
                break; // the time limit: the upper bound, whatever the idle wait
            }

            // Poll in short slices so that cancellation is seen promptly. Once the batch has records and its
            // idle wait has run out, take only what the consumer has already fetched (a zero timeout does not wait).
            var slice = Min(deadline - now, TimeSpan.FromMilliseconds(100));
            if (records.Count > 0)
            {
                slice = idleUntil <= now ? TimeSpan.Zero : Min(slice, idleUntil - now);
            }

            var result = consumer.Consume(slice);
            if (result is null)
            {
                if (records.Count > 0 && DateTime.UtcNow >= idleUntil)
                {
                    break; // the stream paused: no next record within the idle wait
                }

                continue;
            }

            if (result.IsPartitionEOF)
            {
                continue;
            }

            records.Add(result);
            bytes += result.Message.Value?.Length ?? 0;
            consumed?.Invoke(result);
            idleUntil = DateTime.UtcNow + limits.IdleWait;
        }

        return records.Count == 0 ? MessageBatch.Empty : new MessageBatch(records, bytes);
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}
