using static UserStream.Tests.Process.ProcessStageHarness;

namespace UserStream.Tests.Process;

/// <summary>Exactly-once across a crash: a processor killed with a transaction open, then started again.</summary>
public sealed class ProcessCrashTests(KafkaBroker broker) : IClassFixture<KafkaBroker>
{
    [Fact]
    public async Task A_processor_killed_mid_transaction_and_started_again_yields_one_output_per_input()
    {
        var ct = TestContext.Current.CancellationToken;
        var topics = StageTopics.Create(broker);
        var settings = Settings(broker.BootstrapServers, topics, "crash-" + Guid.NewGuid().ToString("N")[..8], "processor-" + Guid.NewGuid().ToString("N"), batchMaxCount: 20);
        var beforeCrash = Enumerable.Range(0, 100).Select(_ => Guid.NewGuid()).ToList();
        var duringCrash = Enumerable.Range(0, 100).Select(_ => Guid.NewGuid()).ToList();
        var afterCrash = Enumerable.Range(0, 50).Select(_ => Guid.NewGuid()).ToList();
        await ProduceUsersAsync(broker.BootstrapServers, topics.Input, beforeCrash, ct);

        int committedAtCrash, writtenAtCrash;
        await using (var child = StageProcess.Start("process", settings))
        {
            try
            {
                Assert.True(
                    await Eventually.TrueAsync(() => ReadToEnd(broker.BootstrapServers, topics.Output, IsolationLevel.ReadCommitted).Count >= 20, cancellationToken: Ct),
                    $"the child processor committed nothing:\n{child.RecentOutput()}");

                // From now on the child's commits hang (the coordinator keeps answering "loading"), so the
                // transaction it opens for the next records stays open, their outputs written but uncommitted.
                broker.PushRequestErrors(KafkaApi.EndTxn, [.. Enumerable.Repeat(ErrorCode.GroupLoadInProgress, 500)]);
                await ProduceUsersAsync(broker.BootstrapServers, topics.Input, duringCrash, ct);
                Assert.True(
                    await Eventually.TrueAsync(() => Uncommitted(topics.Output) > ReadToEnd(broker.BootstrapServers, topics.Output, IsolationLevel.ReadCommitted).Count, cancellationToken: Ct),
                    "the child processor never opened a transaction with outputs in it, or the broker shows read_committed " +
                    $"consumers records of open transactions (librdkafka's unpatched mock cluster does):\n{child.RecentOutput()}");
                child.Kill();
            }
            finally
            {
                broker.ClearRequestErrors(KafkaApi.EndTxn);
            }

            committedAtCrash = ReadToEnd(broker.BootstrapServers, topics.Output, IsolationLevel.ReadCommitted).Count;
            writtenAtCrash = Uncommitted(topics.Output);
        }

        Assert.True(writtenAtCrash > committedAtCrash, "the kill did not leave a transaction open");
        Assert.True(committedAtCrash < beforeCrash.Count + duringCrash.Count, "the child finished everything before the kill");

        await ProduceUsersAsync(broker.BootstrapServers, topics.Input, afterCrash, ct);
        await using var restarted = await StartAsync(settings, ct);
        var expected = beforeCrash.Concat(duringCrash).Concat(afterCrash).ToList();
        var outputs = KafkaTopicReader.ReadAll(broker.BootstrapServers, topics.Output, expected.Count, ReadTimeout, TimeSpan.FromSeconds(2));

        // On a broker that neither aborts the open transaction of a fenced producer nor keeps offsets sent
        // to a transaction (librdkafka's unpatched mock cluster), this fails with outputs missing or duplicated.
        AssertExactlyOnce(expected, outputs);
        Assert.True(Uncommitted(topics.Output) > expected.Count, "the outputs of the killed transaction should be in the log, aborted");
    }

    private int Uncommitted(string topic) => ReadToEnd(broker.BootstrapServers, topic, IsolationLevel.ReadUncommitted).Count;
}
