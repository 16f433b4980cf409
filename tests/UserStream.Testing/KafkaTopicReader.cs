using Confluent.Kafka;

namespace UserStream.Testing;

/// <summary>Test-side producing to and reading back from a <see cref="KafkaBroker"/>.</summary>
public static class KafkaTopicReader
{
    /// <summary>
    /// Reads every partition of <paramref name="topic"/> from the beginning (without a consumer group)
    /// until <paramref name="expected"/> records arrived, or until nothing new arrived for
    /// <paramref name="quiet"/> after that, or <paramref name="timeout"/> passed. Read-committed by default.
    /// Returns what arrived: assert on it rather than on the waiting.
    /// </summary>
    public static List<ConsumeResult<string, byte[]>> ReadAll(
        string bootstrapServers,
        string topic,
        int expected,
        TimeSpan timeout,
        TimeSpan? quiet = null,
        IsolationLevel isolation = IsolationLevel.ReadCommitted)
    {
        var config = new ConsumerConfig
        {
            BootstrapServers = bootstrapServers,
            GroupId = "test-reader-" + Guid.NewGuid().ToString("N"),
            EnableAutoCommit = false,
            IsolationLevel = isolation,
            AutoOffsetReset = AutoOffsetReset.Earliest,
        };
        using var consumer = new ConsumerBuilder<string, byte[]>(config).Build();
        var partitions = PartitionsOf(bootstrapServers, topic);
        consumer.Assign(partitions.Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)));

        var records = new List<ConsumeResult<string, byte[]>>();
        var until = DateTime.UtcNow + timeout;
        var settle = quiet ?? TimeSpan.FromMilliseconds(500);
        DateTime? quietUntil = null;
        while (DateTime.UtcNow < until)
        {
            var result = consumer.Consume(TimeSpan.FromMilliseconds(100));
            if (result is { IsPartitionEOF: false })
            {
                records.Add(result);
                quietUntil = records.Count >= expected ? DateTime.UtcNow + settle : null;
                continue;
            }

            if (records.Count >= expected && (quietUntil ??= DateTime.UtcNow + settle) <= DateTime.UtcNow)
            {
                break;
            }
        }

        consumer.Close();
        return records;
    }

    /// <summary>
    /// Every record of <paramref name="topic"/> from the beginning up to its end at the time of reading (for
    /// read-committed: up to the last stable offset), known by reaching the end of every partition (or what
    /// arrived within <paramref name="timeout"/>, 20 s unless told). Unlike <see cref="ReadAll"/> it needs no
    /// expected count: use it to show that a topic holds nothing (more).
    /// </summary>
    public static List<ConsumeResult<string, byte[]>> ReadToEnd(
        string bootstrapServers, string topic, IsolationLevel isolation = IsolationLevel.ReadCommitted, TimeSpan? timeout = null)
    {
        using var consumer = new ConsumerBuilder<string, byte[]>(new ConsumerConfig
        {
            BootstrapServers = bootstrapServers,
            GroupId = "snapshot-" + Guid.NewGuid().ToString("N"),
            EnableAutoCommit = false,
            EnablePartitionEof = true,
            IsolationLevel = isolation,
        }).Build();
        var partitions = PartitionsOf(bootstrapServers, topic);
        consumer.Assign(partitions.Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)));
        var atEnd = new HashSet<Partition>();
        var records = new List<ConsumeResult<string, byte[]>>();
        var until = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        while (atEnd.Count < partitions.Count && DateTime.UtcNow < until)
        {
            if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is not { } result)
            {
                continue;
            }

            if (result.IsPartitionEOF)
            {
                atEnd.Add(result.Partition);
            }
            else
            {
                records.Add(result);
            }
        }

        consumer.Close();
        return records;
    }

    /// <summary>The partition ids of <paramref name="topic"/> as the cluster reports them.</summary>
    public static IReadOnlyList<Partition> PartitionsOf(string bootstrapServers, string topic)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrapServers }).Build();
        var metadata = admin.GetMetadata(topic, TimeSpan.FromSeconds(10));
        var topicMetadata = metadata.Topics.Single(t => t.Topic == topic);
        if (topicMetadata.Error.IsError)
        {
            throw new InvalidOperationException($"topic {topic}: {topicMetadata.Error.Reason}");
        }

        return [.. topicMetadata.Partitions.Select(p => new Partition(p.PartitionId))];
    }

    /// <summary>Produces <paramref name="records"/> with an idempotent producer and waits for every acknowledgement.</summary>
    public static async Task ProduceAsync(
        string bootstrapServers, string topic, IEnumerable<Message<string, byte[]>> records, CancellationToken cancellationToken = default)
    {
        using var producer = TestKafka.CreateProducer(bootstrapServers);
        var deliveries = records.Select(r => producer.ProduceAsync(topic, r, cancellationToken)).ToList();
        await Task.WhenAll(deliveries);
    }
}
