using UserStream.Sink.Store;

namespace UserStream.Tests.Sink;

/// <summary>The store goes away mid-stream and comes back: nothing unwritten is committed, nothing is lost or doubled.</summary>
public sealed class SinkOutageTests(KafkaBroker broker, PostgresDatabase database) : SinkTests(broker, database)
{
    [Fact]
    public async Task During_a_store_outage_no_offset_is_committed_for_unwritten_records_and_afterwards_every_record_lands_once()
    {
        var rig = NewRig();
        var before = TestUsers.Users(300, seed: 31);
        var during = TestUsers.Users(300, seed: 32);
        var all = before.Concat(during).ToList();
        var ids = all.Select(u => u.Id).ToList();
        await using var sink = await rig.StartSinkAsync(rig.Settings(maxBatch: 50));

        await rig.ProduceAsync(before);
        Assert.Equal(before.Count, await rig.WaitForRowsAsync([.. before.Select(u => u.Id)], before.Count));
        Assert.Equal(before.Count, await rig.WaitForCommittedAsync(before.Count));

        var committedDuringOutage = new List<long>();
        await Database.RefuseConnectionsAsync();
        try
        {
            await rig.ProduceAsync(during);
            // The sink fetches, fails to write, backs off and retries: what it commits meanwhile is watched.
            for (var i = 0; i < 12; i++)
            {
                committedDuringOutage.Add(rig.CommittedTotal());
                await Task.Delay(250, Ct);
            }
        }
        finally
        {
            await Database.AcceptConnectionsAsync();
        }

        Assert.All(committedDuringOutage, committed => Assert.Equal(before.Count, committed));
        Assert.Equal(all.Count, await rig.WaitForRowsAsync(ids, all.Count));
        Assert.Equal(all.Count, await rig.WaitForCommittedAsync(all.Count));
        var store = sink.Services.GetRequiredService<IUserStore>();
        foreach (var user in during)
        {
            Assert.Equal(user, await store.GetAsync(user.Id, Ct));
        }

        Assert.Empty(rig.ReadDeadLetters(1, TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public async Task A_sink_started_while_the_store_is_down_consumes_nothing_until_its_schema_is_ready_then_catches_up()
    {
        var rig = NewRig();
        var users = TestUsers.Users(100, seed: 33);
        StageHost sink;
        await Database.RefuseConnectionsAsync();
        try
        {
            await rig.ProduceAsync(users);
            // Starting does not fail, and nothing is consumed (so nothing committed) before the schema exists.
            sink = await rig.StartSinkAsync();
            await Task.Delay(1_500, Ct);
            Assert.False(sink.Services.GetRequiredService<StoreReadiness>().IsReady);
            Assert.Equal(0, rig.CommittedTotal());
        }
        finally
        {
            await Database.AcceptConnectionsAsync();
        }

        await using (sink)
        {
            Assert.Equal(users.Count, await rig.WaitForRowsAsync([.. users.Select(u => u.Id)], users.Count));
            Assert.Equal(users.Count, await rig.WaitForCommittedAsync(users.Count));
        }
    }
}
