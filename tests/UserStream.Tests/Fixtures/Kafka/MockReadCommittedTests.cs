namespace UserStream.Tests.Fixtures;

/// <summary>
/// A read_committed consumer of the mock broker sees what a real cluster would show it: nothing of an
/// open transaction (nor anything after it) until it commits, and nothing of an aborted one. Needs
/// librdkafka with eng/librdkafka-mock-transactions.patch; the unpatched mock ignores the isolation level.
/// </summary>
public sealed class MockReadCommittedTests(KafkaBroker broker) : IClassFixture<KafkaBroker>
{
    private static readonly TimeSpan TransactionTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Quiet = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task An_open_transaction_holds_back_read_committed_readers_until_it_commits()
    {
        var ct = TestContext.Current.CancellationToken;
        var topic = broker.NewTopic("read-committed-open");
        await KafkaTopicReader.ProduceAsync(broker.BootstrapServers, topic, [Record("before")], ct);

        using var producer = CreateTransactionalProducer();
        producer.InitTransactions(TransactionTimeout);
        producer.BeginTransaction();
        await producer.ProduceAsync(topic, Record("open-0"), ct);
        await producer.ProduceAsync(topic, Record("open-1"), ct);
        await KafkaTopicReader.ProduceAsync(broker.BootstrapServers, topic, [Record("after")], ct);

        var whileOpen = KafkaTopicReader.ReadAll(broker.BootstrapServers, topic, 1, ReadTimeout, Quiet);
        Assert.Equal(["before"], Keys(whileOpen));
        var uncommitted = KafkaTopicReader.ReadAll(broker.BootstrapServers, topic, 4, ReadTimeout, Quiet, IsolationLevel.ReadUncommitted);
        Assert.Equal(["before", "open-0", "open-1", "after"], Keys(uncommitted));

        producer.CommitTransaction(TransactionTimeout);

        var afterCommit = KafkaTopicReader.ReadAll(broker.BootstrapServers, topic, 4, ReadTimeout, Quiet);
        Assert.Equal(["before", "open-0", "open-1", "after"], Keys(afterCommit));
    }

    [Fact]
    public async Task Records_of_an_aborted_transaction_never_reach_read_committed_readers()
    {
        var ct = TestContext.Current.CancellationToken;
        var topic = broker.NewTopic("read-committed-abort");

        using var producer = CreateTransactionalProducer();
        producer.InitTransactions(TransactionTimeout);
        producer.BeginTransaction();
        await producer.ProduceAsync(topic, Record("aborted-0"), ct);
        await producer.ProduceAsync(topic, Record("aborted-1"), ct);
        producer.AbortTransaction(TransactionTimeout);
        producer.BeginTransaction();
        await producer.ProduceAsync(topic, Record("kept-0"), ct);
        producer.CommitTransaction(TransactionTimeout);

        var committed = KafkaTopicReader.ReadAll(broker.BootstrapServers, topic, 1, ReadTimeout, Quiet);
        Assert.Equal(["kept-0"], Keys(committed));
        var uncommitted = KafkaTopicReader.ReadAll(broker.BootstrapServers, topic, 3, ReadTimeout, Quiet, IsolationLevel.ReadUncommitted);
        Assert.Equal(["aborted-0", "aborted-1", "kept-0"], Keys(uncommitted));
    }

    private static Message<string, byte[]> Record(string key) => new() { Key = key, Value = Encoding.UTF8.GetBytes(key) };

    private static IEnumerable<string> Keys(IEnumerable<ConsumeResult<string, byte[]>> records) => records.Select(r => r.Message.Key);

    private IProducer<string, byte[]> CreateTransactionalProducer() =>
        TestKafka.CreateProducer(broker.BootstrapServers, "tx-" + Guid.NewGuid().ToString("N"));
}
