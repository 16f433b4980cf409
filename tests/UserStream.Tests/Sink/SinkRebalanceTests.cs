
namespace UserStream.Tests.Sink;

/// <summary>Sinks join and leave the group while records flow: partitions change hands, no record is lost.</summary>
public sealed class SinkRebalanceTests(KafkaBroker broker, PostgresDatabase database)
    : IClassFixture<KafkaBroker>, IClassFixture<PostgresDatabase>
{
    [Fact]
    public async Task Partitions_handed_over_between_sinks_while_records_flow_lose_nothing()
    {
        var rig = new SinkRig(broker, database, partitions: 6).CreateTopics();
        var users = TestUsers.Users(3_000, seed: 51);
        var ids = users.Select(u => u.Id).ToList();
        var settings = rig.Settings(maxBatch: 40, maxWait: "00:00:00.050");
        var first = await rig.StartSinkAsync(settings);
        StageHost? second = null;
        try
        {
            var chunks = users.Chunk(100).ToList();
            for (var i = 0; i < chunks.Count; i++)
            {
                await rig.ProduceAsync(chunks[i]);
                if (i == chunks.Count / 3)
                {
                    // Scale out: the group rebalances while the first sink has batches in hand.
                    second = await rig.StartSinkAsync(settings);
                }
                else if (i == 2 * chunks.Count / 3)
                {
                    // Scale in: the first sink drains and leaves; the second takes every partition.
                    await first.StopAsync(Ct);
                }

                await Task.Delay(50, Ct);
            }

            Assert.Equal(users.Count, await rig.WaitForRowsAsync(ids, users.Count, TimeSpan.FromSeconds(45)));
            Assert.Equal(users.Count, await rig.WaitForCommittedAsync(users.Count));
        }
        finally
        {
            await first.DisposeAsync();
            if (second is not null)
            {
                await second.DisposeAsync();
            }
        }
    }
}
