namespace UserStream.Tests.Fixtures;

/// <summary>
/// Consume-transform-produce on the mock broker: offsets sent with SendOffsetsToTransaction become the
/// group's committed offsets when the transaction commits, and are dropped when it aborts, so a
/// restarted member resumes where the last committed transaction ended. Needs librdkafka with
/// eng/librdkafka-mock-transactions.patch; the unpatched mock never commits them.
/// </summary>
public sealed class MockTransactionalOffsetsTests(KafkaBroker broker) : IClassFixture<KafkaBroker>
{
    private static readonly TimeSpan TransactionTimeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_committed_transaction_commits_the_consumed_offsets_it_carries()
    {
        var (input, group) = await ProcessThreeRecordsAsync(commit: true);

        using var restarted = CreateConsumer(group);
        var committed = restarted.Committed([new TopicPartition(input, 0)], TimeSpan.FromSeconds(10));
        Assert.Equal(3, committed.Single().Offset.Value);
        Assert.Equal("in-3", ConsumeOne(restarted, input)?.Message.Key);
    }

    [Fact]
    public async Task An_aborted_transaction_leaves_the_consumed_offsets_uncommitted()
    {
        var (input, group) = await ProcessThreeRecordsAsync(commit: false);

        using var restarted = CreateConsumer(group);
        var committed = restarted.Committed([new TopicPartition(input, 0)], TimeSpan.FromSeconds(10));
        Assert.Equal(Offset.Unset, committed.Single().Offset);
        Assert.Equal("in-0", ConsumeOne(restarted, input)?.Message.Key);
    }

    /// <summary>Consumes in-0..in-2 of a 4-record input as a group member and sends them on in one transaction.</summary>
    private async Task<(string Input, string Group)> ProcessThreeRecordsAsync(bool commit)
    {
        var ct = TestContext.Current.CancellationToken;
        var input = "offsets-in-" + Guid.NewGuid().ToString("N");
        var output = "offsets-out-" + Guid.NewGuid().ToString("N");
        var group = "group-" + Guid.NewGuid().ToString("N");
        broker.CreateTopic(input, partitions: 1);
        broker.CreateTopic(output, partitions: 1);
        await KafkaTopicReader.ProduceAsync(
            broker.BootstrapServers, input,
            Enumerable.Range(0, 4).Select(i => new Message<string, byte[]> { Key = $"in-{i}", Value = Encoding.UTF8.GetBytes($"{i}") }), ct);

        using var consumer = CreateConsumer(group);
        using var producer = TestKafka.CreateProducer(broker.BootstrapServers, "tx-" + Guid.NewGuid().ToString("N"));
        producer.InitTransactions(TransactionTimeout);
        consumer.Subscribe(input);
        var consumed = new List<ConsumeResult<string, byte[]>>();
        for (var i = 0; i < 3 && ConsumeOne(consumer, input) is { } record; i++)
        {
            consumed.Add(record);
        }

        Assert.Equal(["in-0", "in-1", "in-2"], consumed.Select(r => r.Message.Key));
        producer.BeginTransaction();
        foreach (var record in consumed)
        {
            await producer.ProduceAsync(output, new Message<string, byte[]> { Key = record.Message.Key, Value = record.Message.Value }, ct);
        }

        producer.SendOffsetsToTransaction(
            [new TopicPartitionOffset(consumed[^1].TopicPartition, consumed[^1].Offset + 1)], consumer.ConsumerGroupMetadata, TransactionTimeout);
        if (commit)
        {
            producer.CommitTransaction(TransactionTimeout);
        }
        else
        {
            producer.AbortTransaction(TransactionTimeout);
        }

        consumer.Close();
        return (input, group);
    }

    private static ConsumeResult<string, byte[]>? ConsumeOne(IConsumer<string, byte[]> consumer, string topic)
    {
        if (consumer.Subscription.Count == 0)
        {
            consumer.Subscribe(topic);
        }

        var until = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (DateTime.UtcNow < until)
        {
            if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is { IsPartitionEOF: false } result)
            {
                return result;
            }
        }

        return null;
    }

    private IConsumer<string, byte[]> CreateConsumer(string group) =>
        new ConsumerBuilder<string, byte[]>(new ConsumerConfig
        {
            BootstrapServers = broker.BootstrapServers,
            GroupId = group,
            EnableAutoCommit = false,
            IsolationLevel = IsolationLevel.ReadCommitted,
            AutoOffsetReset = AutoOffsetReset.Earliest,
        }).Build();
}
