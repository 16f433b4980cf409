using UserStream.Sink.Store.Postgres;

namespace UserStream.Tests.Sink;

/// <summary>The sink process dies outright (kill -9) in the middle of a batch; its successor finishes the job exactly once.</summary>
public sealed class SinkCrashTests(KafkaBroker broker, PostgresDatabase database) : SinkTests(broker, database)
{
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
