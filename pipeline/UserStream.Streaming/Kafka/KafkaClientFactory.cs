namespace UserStream.Streaming.Kafka;

/// <summary>
/// Builds the stages' Kafka clients from <see cref="KafkaOptions"/> plus a role's shape
/// (<see cref="KafkaClientShapes"/>). Stages own their clients' lifetime so that a fenced or fatally
/// failed client can be replaced.
/// </summary>
public sealed class KafkaClientFactory(IOptions<KafkaOptions> options)
{
    public ProducerConfig ProducerConfig(Action<ProducerConfig>? shape = null)
    {
        var config = new ProducerConfig(new Dictionary<string, string>(options.Value.Settings))
        {
            BootstrapServers = options.Value.BootstrapServers,
        };
        shape?.Invoke(config);
        return config;
    }

    public ConsumerConfig ConsumerConfig(string groupId, Action<ConsumerConfig>? shape = null)
    {
        var config = new ConsumerConfig(new Dictionary<string, string>(options.Value.Settings))
        {
            BootstrapServers = options.Value.BootstrapServers,
            GroupId = groupId,
        };
        shape?.Invoke(config);
        return config;
    }

    public IProducer<string, byte[]> CreateProducer(
        Action<ProducerConfig>? shape = null, Action<ProducerBuilder<string, byte[]>>? build = null)
    {
        var builder = new ProducerBuilder<string, byte[]>(ProducerConfig(shape));
        build?.Invoke(builder);
        return builder.Build();
    }

    public IConsumer<string, byte[]> CreateConsumer(
        string groupId, Action<ConsumerConfig>? shape = null, Action<ConsumerBuilder<string, byte[]>>? build = null)
    {
        var builder = new ConsumerBuilder<string, byte[]>(ConsumerConfig(groupId, shape));
        build?.Invoke(builder);
        return builder.Build();
    }
}

/// <summary>The client shapes the pipeline uses. The Aspire shell applies the same ones to its clients.</summary>
public static class KafkaClientShapes
{
    /// <summary>Idempotent, acks=all, lz4-compressed, lightly lingering producer: no duplicates on retry, no reordering.</summary>
    public static void Idempotent(ProducerConfig config)
    {
        config.EnableIdempotence = true;
        config.Acks = Acks.All;
        config.LingerMs ??= 5;
        config.CompressionType ??= CompressionType.Lz4;
        config.MessageTimeoutMs ??= 120_000;
    }

    /// <summary>
    /// Transactional producer. <paramref name="transactionalId"/> must be stable across restarts of one
    /// instance so that a restarted instance fences its predecessor and aborts its open transaction.
    /// </summary>
    public static Action<ProducerConfig> Transactional(string transactionalId, TimeSpan transactionTimeout) => config =>
    {
        Idempotent(config);
        config.TransactionalId = transactionalId;
        config.TransactionTimeoutMs = (int)transactionTimeout.TotalMilliseconds;

        // librdkafka refuses a message timeout longer than the transaction timeout: a message cannot
        // outlive its transaction anyway.
        if (config.MessageTimeoutMs > config.TransactionTimeoutMs)
        {
            config.MessageTimeoutMs = config.TransactionTimeoutMs;
        }
    };

    /// <summary>
    /// Consumer that sees committed transactional data only, stores and commits offsets only when told,
    /// and starts from the beginning of a topic its group has never read.
    /// </summary>
    public static void ReadCommittedManualCommit(ConsumerConfig config)
    {
        config.IsolationLevel = IsolationLevel.ReadCommitted;
        config.EnableAutoCommit = false;
        config.EnableAutoOffsetStore = false;
        config.AutoOffsetReset ??= AutoOffsetReset.Earliest;
        config.PartitionAssignmentStrategy ??= PartitionAssignmentStrategy.Range;
    }

    /// <summary>
    /// Consumer for reading assigned partitions (never subscribed, so it never joins its group) read-committed,
    /// reporting each partition's end, storing and committing nothing: looking changes no offsets.
    /// </summary>
    public static void AssignedReader(ConsumerConfig config)
    {
        config.IsolationLevel = IsolationLevel.ReadCommitted;
        config.EnableAutoCommit = false;
        config.EnableAutoOffsetStore = false;
        config.EnablePartitionEof = true;
        config.AutoOffsetReset = AutoOffsetReset.Earliest;
    }

    /// <summary>
    /// Static group membership (KIP-345) under <paramref name="instanceId"/> (group.instance.id): an instance that
    /// crashed and comes back under the same id takes its place in the group at once instead of the group waiting
    /// for the dead member's session to time out (session.timeout.ms, 45 s by default). Every running member of a
    /// group needs its own id: a second member with the same id fences the first. A static member does not leave
    /// its group when it closes, so a graceful stop leaves explicitly first (<see cref="ConsumerLeaving.LeaveGroup"/>).
    /// </summary>
    public static Action<ConsumerConfig> StaticMember(string instanceId) => config =>
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(instanceId);
        config.GroupInstanceId = instanceId;
    };
}

/// <summary>How a consumer leaves its group on a graceful stop.</summary>
public static class ConsumerLeaving
{
    /// <summary>
    /// Leaves the group so that the partitions move to the other members at once, also for a static member (which
    /// never leaves on close): unsubscribes, then serves the revocation until nothing is assigned (at most
    /// <paramref name="timeout"/>), so that librdkafka sends the LeaveGroup before <see cref="IConsumer{TKey,TValue}.Close"/>.
    /// </summary>
    public static void LeaveGroup<TKey, TValue>(this IConsumer<TKey, TValue> consumer, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(consumer);
        consumer.Unsubscribe();
        var until = DateTime.UtcNow + timeout;
        do
        {
            // Serves the revocation; delivers nothing once unsubscribed.
            consumer.Consume(TimeSpan.FromMilliseconds(50));
        }
        while (consumer.Assignment.Count > 0 && DateTime.UtcNow < until);
    }
}
