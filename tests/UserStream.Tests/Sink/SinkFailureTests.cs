using UserStream.Sink.Store;
using UserStream.Sink.Store.Postgres;

namespace UserStream.Tests.Sink;

/// <summary>
/// The store goes away mid-stream and comes back, or the sink process dies outright (kill -9) mid-batch: nothing
/// unwritten is committed, and every record lands exactly once, equal to itself.
/// </summary>
public sealed class SinkFailureTests(KafkaBroker broker, PostgresDatabase database) : SinkTests(broker, database)
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

    [Fact]
    public async Task A_sink_killed_mid_batch_and_restarted_leaves_exactly_one_row_equal_to_each_record()
    {
        var rig = NewRig();
        var users = TestUsers.Users(2_000, seed: 41);
        var ids = users.Select(u => u.Id).ToList();
        var settings = rig.Settings(maxBatch: 100);
        await rig.ProduceAsync(users[..1_000]);
        await using var source = Database.CreateDataSource();

        long rowsAtKill, committedAtKill;
        await using (var first = StageProcess.Start("sink", settings))
        {
            var rows = await rig.WaitForRowsAsync(ids, 1_000, TimeSpan.FromSeconds(60));
            Assert.True(rows == 1_000, $"the first sink wrote {rows} rows; its output:\n{first.RecentOutput()}");

            // Hold the table so that the sink's next write hangs: it is then mid-batch (consumed, not written).
            await using var holder = await source.OpenConnectionAsync(Ct);
            await using var hold = await holder.BeginTransactionAsync(Ct);
            await using (var lockTable = new NpgsqlCommand("LOCK TABLE created_users IN SHARE MODE", holder, hold))
            {
                await lockTable.ExecuteNonQueryAsync(Ct);
            }

            await rig.ProduceAsync(users[1_000..]);

            var blockedWriter = await Eventually.Async(() => BlockedWriterAsync(source), pid => pid is not null, cancellationToken: Ct);
            Assert.True(blockedWriter is not null, $"the sink never tried to write again; its output:\n{first.RecentOutput()}");

            first.Kill();
            // The write in flight dies with its process: it never happened.
            await using (var terminate = source.CreateCommand("SELECT pg_terminate_backend($1)"))
            {
                terminate.Parameters.Add(new NpgsqlParameter<int> { TypedValue = blockedWriter!.Value });
                await terminate.ExecuteNonQueryAsync(Ct);
            }

            await hold.RollbackAsync(Ct);
            rowsAtKill = await rig.RowsAsync(ids);
            committedAtKill = rig.CommittedTotal();
        }

        Assert.Equal(1_000, rowsAtKill);
        // Only records whose rows exist may have committed offsets: the batch in hand is not among them.
        Assert.True(committedAtKill <= rowsAtKill, $"{committedAtKill} offsets committed but only {rowsAtKill} rows written");

        await using var second = StageProcess.Start("sink", settings);
        var final = await rig.WaitForRowsAsync(ids, users.Count, TimeSpan.FromSeconds(60));
        Assert.True(final == users.Count, $"{final} of {users.Count} rows after the restart; its output:\n{second.RecentOutput()}");
        Assert.Equal(users.Count, await rig.WaitForCommittedAsync(users.Count));

        var store = new PostgresUserStore(source);
        foreach (var user in users)
        {
            Assert.Equal(user, await store.GetAsync(user.Id, Ct));
        }
    }

    /// <summary>The backend of a write to created_users that waits for a lock, if any.</summary>
    private static async Task<int?> BlockedWriterAsync(NpgsqlDataSource source)
    {
        await using var command = source.CreateCommand(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' " +
            "AND query LIKE 'INSERT INTO created_users%' LIMIT 1");
        return await command.ExecuteScalarAsync(Ct) as int?;
    }
}
