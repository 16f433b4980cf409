using UserStream.Testing;
using UserStream.Tests.Infrastructure;
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
        var ids = Enumerable.Range(0, 900).Select(_ => Guid.NewGuid()).ToList();
        using var metrics = new StageMetrics();

        // Long batches (up to 1 s, 500 records) so that a rebalance finds a batch half gathered.
        await using var first = await StartAsync(Settings(broker.BootstrapServers, topics, "rebalance-a", group, batchMaxCount: 500, batchMaxWaitMs: 1_000), ct);
        var stream = StreamUsersAsync(broker.BootstrapServers, topics.Input, ids, slice: 15, pause: TimeSpan.FromMilliseconds(150), ct);
        Assert.True(await Eventually(() => metrics.Sum(first, RecordsIn) > 0, ct), "the first instance processed nothing");

        await using var second = await StartAsync(Settings(broker.BootstrapServers, topics, "rebalance-b", group, batchMaxCount: 500, batchMaxWaitMs: 1_000), ct);
        Assert.True(await Eventually(() => metrics.Sum(second, RecordsIn) > 0, ct), "the second instance never got partitions");
        await first.StopAsync(ct);
        await stream;
        var outputs = KafkaTopicReader.ReadAll(broker.BootstrapServers, topics.Output, ids.Count, ReadTimeout, TimeSpan.FromSeconds(2));

        AssertExactlyOnce(ids, outputs);
    }

    private static async Task<bool> Eventually(Func<bool> condition, CancellationToken cancellationToken)
    {
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!condition())
        {
            if (DateTime.UtcNow > until)
            {
                return false;
            }

            await Task.Delay(100, cancellationToken);
        }

        return true;
    }
}
