namespace UserStream.Streaming.DeadLettering;

/// <summary>Reading a range of one partition with an assigned consumer (<see cref="Kafka.KafkaClientShapes.AssignedReader"/>).</summary>
internal static class PartitionRange
{
    /// <summary>Group id of the readers: never joined (partitions are assigned) and never committed.</summary>
    public const string ReaderGroup = "userstream-dead-letter-reader";

    /// <summary>The partitions of <paramref name="topic"/>; throws when the topic does not exist.</summary>
    public static IReadOnlyList<TopicPartition> PartitionsOf(IClient client, string topic, TimeSpan timeout)
    {
        using var admin = new DependentAdminClientBuilder(client.Handle).Build();
        var metadata = admin.GetMetadata(topic, timeout).Topics.SingleOrDefault(t => t.Topic == topic);
        if (metadata is null || metadata.Error.IsError || metadata.Partitions.Count == 0)
        {
            throw new KafkaException(metadata?.Error is { IsError: true } error ? error : new Error(ErrorCode.UnknownTopicOrPart, $"topic {topic} does not exist"));
        }

        return [.. metadata.Partitions.Select(p => new TopicPartition(topic, p.PartitionId)).OrderBy(p => p.Partition.Value)];
    }

    /// <summary>
    /// The committed records of <paramref name="partition"/> from <paramref name="start"/> up to (not including)
    /// <paramref name="end"/> or the partition's end, whichever comes first, in offset order. Stops early, setting
    /// <see cref="RangeProgress.TimedOut"/>, once <paramref name="deadline"/> passed; throws <see cref="TimeoutException"/>
    /// when no record or end arrives for <paramref name="idleTimeout"/>.
    /// </summary>
    public static IEnumerable<ConsumeResult<string, byte[]>> Read(
        IConsumer<string, byte[]> consumer, TopicPartition partition, long start, long end,
        RangeProgress progress, TimeProvider time, TimeSpan idleTimeout, DateTimeOffset? deadline, CancellationToken cancellationToken)
    {
        if (start >= end)
        {
            yield break;
        }

        consumer.Assign(new TopicPartitionOffset(partition, start));
        var lastProgress = time.GetUtcNow();
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var now = time.GetUtcNow();
            if (deadline is { } until && now >= until)
            {
                progress.TimedOut = true;
                yield break;
            }

            if (now - lastProgress > idleTimeout)
            {
                throw new TimeoutException($"{partition.Topic} [{partition.Partition.Value}]: nothing read for {idleTimeout} at offset {start}..{end}.");
            }

            var wait = TimeSpan.FromMilliseconds(200);
            if (deadline is { } limit && limit - now < wait)
            {
                wait = limit - now;
            }

            var result = consumer.Consume(wait);
            if (result is null)
            {
                continue;
            }

            lastProgress = time.GetUtcNow();
            if (result.IsPartitionEOF)
            {
                // Read committed: the end is the last stable offset. A stale end from before the assignment is ignored.
                if (result.Offset.Value >= start)
                {
                    yield break;
                }

                continue;
            }

            if (result.Offset.Value >= end)
            {
                yield break;
            }

            yield return result;
        }
    }
}

/// <summary>Whether a range read stopped at its deadline.</summary>
internal sealed class RangeProgress
{
    public bool TimedOut { get; set; }
}
