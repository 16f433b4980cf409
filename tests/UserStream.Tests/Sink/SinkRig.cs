using UserStream.Sink;

namespace UserStream.Tests.Sink;

/// <summary>One test's sink wiring: its own topics and consumer group on the class's broker and database.</summary>
internal sealed class SinkRig(MockKafkaCluster broker, PostgresTestDatabase database, int partitions = 3)
{
    public string Topic { get; } = "enriched-" + Guid.NewGuid().ToString("N");
    public string DeadLetterTopic { get; } = "dlq-" + Guid.NewGuid().ToString("N");
    public string Group { get; } = "sink-" + Guid.NewGuid().ToString("N");
    public MockKafkaCluster Broker => broker;

    public SinkRig CreateTopics()
    {
        broker.CreateTopic(Topic, partitions);
        broker.CreateTopic(DeadLetterTopic, 1);
        return this;
    }

    /// <summary>The sink's configuration, as its service would get it.</summary>
    public Dictionary<string, string?> Settings(int maxBatch = 100, string maxWait = "00:00:00.100") =>
        PipelineRig.With(TestKafka.StageSettings(broker.BootstrapServers), new Dictionary<string, string?>
        {
            ["ConnectionStrings:pipeline-db"] = database.ConnectionString,
            ["Sink:Topic"] = Topic,
            ["Sink:DeadLetterTopic"] = DeadLetterTopic,
            ["Sink:GroupId"] = Group,
            ["Sink:Batch:MaxCount"] = maxBatch.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Sink:Batch:MaxWait"] = maxWait,
            ["Sink:Retry:InitialDelay"] = "00:00:00.050",
            ["Sink:Retry:MaxDelay"] = "00:00:00.400",
        });

    /// <summary>Session timeout of every group member in these tests (short: see <see cref="TestKafka.GroupSessionTimeoutMs"/>).</summary>
    public const int GroupSessionTimeoutMs = TestKafka.GroupSessionTimeoutMs;

    public Task<StageHost> StartSinkAsync(IReadOnlyDictionary<string, string?>? settings = null) =>
        StageHost.StartSinkAsync(settings ?? Settings(), cancellationToken: Ct);

    public Task ProduceAsync(IEnumerable<EnrichedUser> users) => ProduceAsync(users.Select(TestUsers.Message));

    public Task ProduceAsync(IEnumerable<Message<string, byte[]>> messages) =>
        KafkaTopicReader.ProduceAsync(broker.BootstrapServers, Topic, messages, TestContext.Current.CancellationToken);

    /// <summary>How many of <paramref name="ids"/> have a row.</summary>
    public async Task<long> RowsAsync(IEnumerable<Guid> ids)
    {
        await using var source = database.CreateDataSource();
        await using var command = source.CreateCommand("SELECT count(*) FROM created_users WHERE id = ANY($1)");
        command.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = [.. ids] });
        try
        {
            return (long)(await command.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            return 0;
        }
    }

    public Task<long> WaitForRowsAsync(IReadOnlyCollection<Guid> ids, long expected, TimeSpan? timeout = null) =>
        Eventually.Async(() => RowsAsync(ids), n => n >= expected, timeout);

    /// <summary>The sum over partitions of the offsets the sink's group committed (0 for none).</summary>
    public long CommittedTotal()
    {
        using var consumer = new ConsumerBuilder<string, byte[]>(TestKafka.Consumer(broker.BootstrapServers, Group)).Build();
        var partitionsOfTopic = KafkaTopicReader.PartitionsOf(broker.BootstrapServers, Topic)
            .Select(p => new TopicPartition(Topic, p));
        var committed = consumer.Committed(partitionsOfTopic, TimeSpan.FromSeconds(10));
        return committed.Sum(c => c.Offset.Value >= 0 ? c.Offset.Value : 0);
    }

    public Task<long> WaitForCommittedAsync(long expected, TimeSpan? timeout = null) =>
        Eventually.Async(() => Task.FromResult(CommittedTotal()), n => n >= expected, timeout);

    public List<ConsumeResult<string, byte[]>> ReadDeadLetters(int expected, TimeSpan? timeout = null) =>
        KafkaTopicReader.ReadAll(broker.BootstrapServers, DeadLetterTopic, expected, timeout ?? TimeSpan.FromSeconds(15));
}
