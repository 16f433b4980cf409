using System.Globalization;
using Confluent.Kafka;

namespace UserStream.Testing;

/// <summary>
/// The one set of Kafka settings for tests and benchmarks: what a stage under test is told beside its
/// service's defaults, and the plain clients tests use to produce, read and look at a mock cluster.
/// </summary>
public static class TestKafka
{
    /// <summary>
    /// Group session timeout of every stage in the tests: short, because the broker holds a group for the
    /// session timeout after a member died.
    /// </summary>
    public const int GroupSessionTimeoutMs = 3000;

    /// <summary>
    /// A stage's Kafka settings, with the services' keys: the bootstrap servers and (unless
    /// <paramref name="serviceDefaults"/>) short group sessions, prompt heartbeats and metadata refreshes, and
    /// librdkafka's logs down to errors.
    /// </summary>
    public static Dictionary<string, string?> StageSettings(
        string bootstrapServers, int sessionTimeoutMs = GroupSessionTimeoutMs, bool serviceDefaults = false) => serviceDefaults
        ? new() { ["Kafka:BootstrapServers"] = bootstrapServers }
        : new()
        {
            ["Kafka:BootstrapServers"] = bootstrapServers,
            ["Kafka:Settings:session.timeout.ms"] = sessionTimeoutMs.ToString(CultureInfo.InvariantCulture),
            ["Kafka:Settings:heartbeat.interval.ms"] = "500",
            ["Kafka:Settings:topic.metadata.refresh.interval.ms"] = "1000",
            ["Kafka:Settings:log_level"] = "3",
        };

    /// <summary>A consumer that commits only when told, from the earliest offset, read-committed unless told; its own group unless given one.</summary>
    public static ConsumerConfig Consumer(
        string bootstrapServers, string? group = null, IsolationLevel isolation = IsolationLevel.ReadCommitted) => new()
        {
            BootstrapServers = bootstrapServers,
            GroupId = group ?? "test-" + Guid.NewGuid().ToString("N"),
            EnableAutoCommit = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            IsolationLevel = isolation,
        };

    /// <summary>An idempotent producer, transactional when given an id.</summary>
    public static ProducerConfig Producer(string bootstrapServers, string? transactionalId = null, int lingerMs = 5) => new()
    {
        BootstrapServers = bootstrapServers,
        TransactionalId = transactionalId,
        EnableIdempotence = true,
        LingerMs = lingerMs,
    };

    /// <summary>A producer of <see cref="Producer"/>'s settings.</summary>
    public static IProducer<string, byte[]> CreateProducer(string bootstrapServers, string? transactionalId = null, int lingerMs = 5) =>
        new ProducerBuilder<string, byte[]>(Producer(bootstrapServers, transactionalId, lingerMs)).Build();

    /// <summary>An admin client (metadata, offsets).</summary>
    public static IAdminClient Admin(string bootstrapServers) =>
        new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrapServers }).Build();
}
