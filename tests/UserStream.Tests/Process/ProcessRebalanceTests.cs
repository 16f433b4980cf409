using static UserStream.Tests.Process.ProcessStageHarness;

namespace UserStream.Tests.Process;

/// <summary>Exactly-once while the group rebalances: a second instance joins mid-stream, then the first leaves.</summary>
public sealed class ProcessRebalanceTests(KafkaBroker broker) : IClassFixture<KafkaBroker>
{
    private const string RecordsIn = "userstream.process.records.in";

    [Fact]
    public async Task A_second_instance_joining_mid_stream_and_the_first_leaving_change_nothing()
    {
        var ct = TestContext.Current.CancellationToken;
        var topics = StageTopics.Create(broker, partitions: 6);
        var group = "processor-" + Guid.NewGuid().ToString("N");
        var ids = Enumerable.Range(0, 600).Select(_ => Guid.NewGuid()).ToList();
        using var metrics = new StageMetrics();

        // Batches stay open for 5 s (also across pauses in the stream), longer than a rebalance takes here
        // (about 3 s), so that each rebalance finds a batch half gathered, holding records of partitions that
        // move to the other instance.
        await using var first = await StartAsync(OpenBatches(Settings(broker.BootstrapServers, topics, "rebalance-a", group, batchMaxCount: 5_000, batchMaxWaitMs: 5_000)), ct);
        var stream = StreamUsersAsync(broker.BootstrapServers, topics.Input, ids, slice: 10, pause: TimeSpan.FromMilliseconds(100), ct);
        await Task.Delay(TimeSpan.FromSeconds(1.5), ct);

        await using var second = await StartAsync(OpenBatches(Settings(broker.BootstrapServers, topics, "rebalance-b", group, batchMaxCount: 5_000, batchMaxWaitMs: 5_000)), ct);
        Assert.True(await Eventually.TrueAsync(() => metrics.Sum(second, RecordsIn) > 0, cancellationToken: Ct), "the second instance never got partitions");
        await first.StopAsync(ct);
        await stream;
        var outputs = KafkaTopicReader.ReadAll(broker.BootstrapServers, topics.Output, ids.Count, ReadTimeout, TimeSpan.FromSeconds(2));

        AssertExactlyOnce(ids, outputs);
        Assert.True(metrics.Sum(first, RecordsIn) > 0, "the first instance processed nothing");
    }

    private static Dictionary<string, string?> OpenBatches(Dictionary<string, string?> settings)
    {
        settings["Process:Batch:IdleWait"] = settings["Process:Batch:MaxWait"];
        return settings;
    }
}
