using UserStream.Tests.Ingest.Support;

namespace UserStream.Tests.Ingest;

/// <summary>A run cut short by a stop or a crash is recorded as interrupted; the service then carries on.</summary>
public sealed class IngestRestartTests(KafkaBroker broker, PostgresDatabase database) : IClassFixture<KafkaBroker>, IClassFixture<PostgresDatabase>
{
    [Fact]
    public async Task Stopping_during_a_run_delivers_what_was_fetched_records_the_run_interrupted_and_the_next_run_proceeds()
    {
        await using var scenario = await IngestTestHost.ScenarioAsync(broker, database, FakeAnswer.Users, FakeAnswer.Hang(TimeSpan.FromSeconds(30)));
        var (topic, ledger, randomUser, settings) = scenario;
        settings["Ingest:PageSize"] = "10";
        settings["Ingest:RandomUser:AttemptTimeout"] = "00:01:00";

        Guid interrupted;
        await using (var stage = await StageHost.StartIngestAsync(settings, cancellationToken: Ct))
        {
            interrupted = (await stage.Api.TriggerAsync(30, cancellationToken: Ct)).Id;
            await WaitUntilAsync(() => randomUser.Requests.Count >= 2); // page 1 fetched, page 2 in flight
            await stage.Host.StopAsync(TestContext.Current.CancellationToken);
        }

        var row = Assert.Single(await LedgerRows.ReadAsync(ledger));
        Assert.Equal((interrupted, "failed", 30, 10, 10, 0), (row.Id, row.Status, row.Requested, row.Fetched, row.Produced, row.Failed));
        Assert.StartsWith("interrupted", row.Error, StringComparison.Ordinal);
        Assert.NotNull(row.EndedAt);
        Assert.Equal(10, KafkaTopicReader.ReadAll(broker.BootstrapServers, topic, 10, TimeSpan.FromSeconds(15)).Count);

        await using var restarted = await StageHost.StartIngestAsync(settings, cancellationToken: Ct);
        var next = await restarted.Api.WaitForRunAsync((await restarted.Api.TriggerAsync(5, cancellationToken: Ct)).Id, cancellationToken: Ct);
        Assert.Equal(("succeeded", 5), (next.Status, next.Produced));
        Assert.Equal("failed", (await restarted.Api.GetRunAsync(interrupted, cancellationToken: Ct)).Status);
    }

    [Fact]
    public async Task A_run_left_running_by_a_crashed_process_is_marked_interrupted_at_startup_and_the_schedule_resumes()
    {
        var topic = broker.NewTopic("users-created", partitions: 3);
        var ledger = await database.NewSchemaAsync();
        var settings = IngestTestHost.Settings(broker, ledger, topic);
        await using (await StageHost.StartIngestAsync(settings, cancellationToken: Ct))
        {
            // Creates the ledger's tables.
        }

        // What a process killed mid-run leaves behind.
        var crashed = Guid.CreateVersion7();
        await using (var source = NpgsqlDataSource.Create(ledger))
        await using (var insert = source.CreateCommand(
            "INSERT INTO ingest_runs (id, trigger, source, seed, requested, fetched, produced, status, started_at) " +
            "VALUES ($1, 'schedule', 'generator', 'seed', 100, 40, 40, 'running', now() - interval '10 seconds')"))
        {
            insert.Parameters.Add(new NpgsqlParameter { Value = crashed });
            await insert.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
        }

        settings["Ingest:Schedule:Paused"] = "false";
        await using var restarted = await StageHost.StartIngestAsync(settings, cancellationToken: Ct);

        var marked = await restarted.Api.GetRunAsync(crashed, cancellationToken: Ct);
        Assert.Equal(("failed", 40, 40), (marked.Status, marked.Fetched, marked.Produced));
        Assert.StartsWith("interrupted", marked.Error, StringComparison.Ordinal);
        Assert.NotNull(marked.EndedAt);

        // The schedule carries on: the crashed run was scheduled more than an interval ago, so the next one starts now.
        var runs = await restarted.Api.WaitForHistoryAsync(h => h.Any(r => r.Id != crashed && r.Status == "succeeded"), cancellationToken: Ct);
        Assert.Contains(runs, r => r is { Trigger: "schedule", Status: "succeeded", Produced: 5 });
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < until, "condition not reached");
            await Task.Delay(20);
        }
    }
}
