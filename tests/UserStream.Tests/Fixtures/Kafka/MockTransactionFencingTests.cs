namespace UserStream.Tests.Fixtures;

/// <summary>
/// The mock broker's transaction coordinator behaves like Kafka's when a transactional producer is
/// replaced (a processor restarted after a crash): the newcomer fences the old producer and its open
/// transaction is aborted. Needs librdkafka with eng/librdkafka-mock-transactions.patch; the unpatched mock
/// leaves the crashed transaction open forever, so read_committed readers see nothing after it.
/// </summary>
public sealed class MockTransactionFencingTests(KafkaBroker broker) : IClassFixture<KafkaBroker>
{
    private static readonly TimeSpan TransactionTimeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_successor_aborts_the_transaction_a_crashed_producer_left_open()
    {
        var ct = TestContext.Current.CancellationToken;
        var topic = broker.NewTopic("fencing-crash");
        var transactionalId = "tx-" + Guid.NewGuid().ToString("N");

        using (var crashed = CreateTransactionalProducer(transactionalId))
        {
            crashed.InitTransactions(TransactionTimeout);
            crashed.BeginTransaction();
            await ProduceAsync(crashed, topic, "crashed", 3, ct);
            // Disposed with neither commit nor abort: to the broker, the process died mid-transaction.
        }

        using var successor = CreateTransactionalProducer(transactionalId);
        successor.InitTransactions(TransactionTimeout);
        successor.BeginTransaction();
        await ProduceAsync(successor, topic, "successor", 2, ct);
        successor.CommitTransaction(TransactionTimeout);

        var committed = KafkaTopicReader.ReadAll(broker.BootstrapServers, topic, 2, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(1));
        Assert.Equal(["successor-0", "successor-1"], committed.Select(r => r.Message.Key));

        var everything = KafkaTopicReader.ReadAll(
            broker.BootstrapServers, topic, 5, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(1), IsolationLevel.ReadUncommitted);
        Assert.Equal(["crashed-0", "crashed-1", "crashed-2", "successor-0", "successor-1"], everything.Select(r => r.Message.Key));
    }

    [Fact]
    public async Task A_fenced_producer_can_no_longer_commit_what_it_produced()
    {
        var ct = TestContext.Current.CancellationToken;
        var topic = broker.NewTopic("fencing-zombie");
        var transactionalId = "tx-" + Guid.NewGuid().ToString("N");

        using var zombie = CreateTransactionalProducer(transactionalId);
        zombie.InitTransactions(TransactionTimeout);
        zombie.BeginTransaction();
        await ProduceAsync(zombie, topic, "zombie", 3, ct);

        using var successor = CreateTransactionalProducer(transactionalId);
        successor.InitTransactions(TransactionTimeout);

        var refused = Assert.ThrowsAny<KafkaException>(() => zombie.CommitTransaction(TransactionTimeout));
        Assert.True(refused.Error.IsFatal, $"expected a fatal (fenced) error, got {refused.Error}");

        successor.BeginTransaction();
        await ProduceAsync(successor, topic, "successor", 1, ct);
        successor.CommitTransaction(TransactionTimeout);

        var committed = KafkaTopicReader.ReadAll(broker.BootstrapServers, topic, 1, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(1));
        Assert.Equal(["successor-0"], committed.Select(r => r.Message.Key));
    }

    private IProducer<string, byte[]> CreateTransactionalProducer(string transactionalId) =>
        TestKafka.CreateProducer(broker.BootstrapServers, transactionalId);

    private static async Task ProduceAsync(IProducer<string, byte[]> producer, string topic, string prefix, int count, CancellationToken ct)
    {
        for (var i = 0; i < count; i++)
        {
            await producer.ProduceAsync(
                topic, new Message<string, byte[]> { Key = $"{prefix}-{i}", Value = Encoding.UTF8.GetBytes($"{prefix} {i}") }, ct);
        }
    }
}
