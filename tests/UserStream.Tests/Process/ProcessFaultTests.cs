using Microsoft.Extensions.Logging;
using UserStream.Process;
using static UserStream.Tests.Process.ProcessStageHarness;

namespace UserStream.Tests.Process;

/// <summary>Exactly-once through broker faults: retriable request errors, an abortable error, an outage.</summary>
public sealed class ProcessFaultTests(KafkaBroker broker) : IClassFixture<KafkaBroker>, IDisposable
{
    private static readonly KafkaApi[] FaultedApis = [KafkaApi.Produce, KafkaApi.AddPartitionsToTxn, KafkaApi.TxnOffsetCommit, KafkaApi.EndTxn];

    /// <summary>Faults a test injected but its stage did not meet must not reach the next test.</summary>
    public void Dispose()
    {
        foreach (var api in FaultedApis)
        {
            broker.ClearRequestErrors(api);
        }

        broker.SetLatency(0);
        broker.SetBrokerUp();
    }

    [Fact]
    public async Task Retriable_errors_on_produce_add_partitions_send_offsets_and_commit_change_nothing()
    {
        var ct = TestContext.Current.CancellationToken;
        var (topics, first, second) = await TwoBatchesAsync(150, ct);
        await using var stage = await StartAsync(Settings(broker.BootstrapServers, topics, "faults-" + Guid.NewGuid().ToString("N")[..8], NewGroup()), ct);

        // Pushed while the stage is the only client producing or running transactions.
        PushRetriableErrors();
        KafkaTopicReader.ReadAll(broker.BootstrapServers, topics.Output, first.Count, ReadTimeout, TimeSpan.Zero);
        await ProduceUsersAsync(broker.BootstrapServers, topics.Input, second, ct);
        PushRetriableErrors();
        var outputs = KafkaTopicReader.ReadAll(broker.BootstrapServers, topics.Output, first.Count + second.Count, ReadTimeout, TimeSpan.FromSeconds(2));

        AssertExactlyOnce([.. first, .. second], outputs);
    }

    [Fact]
    public async Task A_transaction_failing_with_an_abortable_error_is_aborted_and_its_batch_redone_exactly_once()
    {
        var ct = TestContext.Current.CancellationToken;
        var (topics, first, second) = await TwoBatchesAsync(100, ct);
        using var metrics = new StageMetrics();

        // The first transaction's offsets are refused for good: it cannot commit and must be aborted.
        broker.PushRequestErrors(KafkaApi.TxnOffsetCommit, ErrorCode.GroupAuthorizationFailed);
        await using var stage = await StartAsync(Settings(broker.BootstrapServers, topics, "abort-" + Guid.NewGuid().ToString("N")[..8], NewGroup()), ct);
        KafkaTopicReader.ReadAll(broker.BootstrapServers, topics.Output, first.Count, ReadTimeout, TimeSpan.Zero);

        // The next transaction may not write to its partitions: aborted again.
        broker.PushRequestErrors(KafkaApi.AddPartitionsToTxn, ErrorCode.TopicAuthorizationFailed);
        await ProduceUsersAsync(broker.BootstrapServers, topics.Input, second, ct);
        var outputs = KafkaTopicReader.ReadAll(broker.BootstrapServers, topics.Output, first.Count + second.Count, ReadTimeout, TimeSpan.FromSeconds(2));

        AssertExactlyOnce([.. first, .. second], outputs);
        var aborted = metrics.Sum(stage, "userstream.process.transactions.aborted");
        Assert.True(aborted >= 2, $"the two injected errors should each have aborted a transaction; {aborted} were aborted");
    }

    [Fact]
    public async Task A_fatal_producer_error_restarts_the_stage_with_new_clients_from_the_committed_offsets()
    {
        var ct = TestContext.Current.CancellationToken;
        var (topics, first, second) = await TwoBatchesAsync(100, ct);
        var logs = new CapturedLogs();
        var settings = Settings(broker.BootstrapServers, topics, "fatal-" + Guid.NewGuid().ToString("N")[..8], NewGroup());
        await using var stage = await StageHost.StartAsync(settings, builder =>
        {
            builder.Logging.AddProvider(logs);
            builder.AddProcessStage();
        }, cancellationToken: ct);
        KafkaTopicReader.ReadAll(broker.BootstrapServers, topics.Output, first.Count, ReadTimeout, TimeSpan.Zero);

        // The coordinator says this producer's epoch is stale: a fatal error, the producer is unusable.
        broker.PushRequestErrors(KafkaApi.TxnOffsetCommit, ErrorCode.InvalidProducerEpoch);
        await ProduceUsersAsync(broker.BootstrapServers, topics.Input, second, ct);
        var outputs = KafkaTopicReader.ReadAll(broker.BootstrapServers, topics.Output, first.Count + second.Count, ReadTimeout, TimeSpan.FromSeconds(2));

        AssertExactlyOnce([.. first, .. second], outputs);
        Assert.Contains(logs.Entries, e => e.Level == LogLevel.Error && e.Message.Contains("loop failed", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_broker_outage_mid_stream_changes_nothing()
    {
        var ct = TestContext.Current.CancellationToken;
        var topics = StageTopics.Create(broker);
        var ids = NewIds(300);
        await ProduceUsersAsync(broker.BootstrapServers, topics.Input, ids, ct);

        // Slow responses stretch the work over several seconds, so that the outage hits it in mid-flight.
        broker.SetLatency(30);
        try
        {
            await using var stage = await StartAsync(Settings(broker.BootstrapServers, topics, "outage-" + Guid.NewGuid().ToString("N")[..8], NewGroup(), batchMaxCount: 20), ct);
            KafkaTopicReader.ReadAll(broker.BootstrapServers, topics.Output, 40, ReadTimeout, TimeSpan.Zero);
            broker.SetBrokerDown();
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(3), ct);
            }
            finally
            {
                broker.SetBrokerUp();
            }

            broker.SetLatency(0);
            var outputs = KafkaTopicReader.ReadAll(broker.BootstrapServers, topics.Output, ids.Count, ReadTimeout, TimeSpan.FromSeconds(2));

            AssertExactlyOnce(ids, outputs);
        }
        finally
        {
            broker.SetLatency(0);
        }
    }

    private void PushRetriableErrors()
    {
        broker.PushRequestErrors(KafkaApi.Produce, ErrorCode.NotEnoughReplicas, ErrorCode.RequestTimedOut, ErrorCode.NotEnoughReplicasAfterAppend);
        broker.PushRequestErrors(KafkaApi.AddPartitionsToTxn, ErrorCode.ConcurrentTransactions, ErrorCode.GroupLoadInProgress, ErrorCode.GroupCoordinatorNotAvailable);
        broker.PushRequestErrors(KafkaApi.TxnOffsetCommit, ErrorCode.GroupLoadInProgress, ErrorCode.NotCoordinatorForGroup, ErrorCode.RequestTimedOut);
        broker.PushRequestErrors(KafkaApi.EndTxn, ErrorCode.ConcurrentTransactions, ErrorCode.GroupLoadInProgress, ErrorCode.GroupCoordinatorNotAvailable);
    }

    /// <summary>New topics and two batches of <paramref name="count"/> users for them, the first already in the input.</summary>
    private async Task<(StageTopics Topics, List<Guid> First, List<Guid> Second)> TwoBatchesAsync(int count, CancellationToken ct)
    {
        var topics = StageTopics.Create(broker);
        var (first, second) = (NewIds(count), NewIds(count));
        await ProduceUsersAsync(broker.BootstrapServers, topics.Input, first, ct);
        return (topics, first, second);
    }

    private static List<Guid> NewIds(int count) => [.. Enumerable.Range(0, count).Select(_ => Guid.NewGuid())];

    private static string NewGroup() => "processor-" + Guid.NewGuid().ToString("N");
}
