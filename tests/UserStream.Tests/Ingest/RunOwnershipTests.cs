using UserStream.Tests.Ingest.Support;

namespace UserStream.Tests.Ingest;

/// <summary>
/// Runs are owned: the ledger records which instance runs a run, its owner renews a lease while it runs, and an
/// instance marks interrupted only its own leftovers and runs whose lease lapsed — never a live instance's run.
/// </summary>
public sealed class RunOwnershipTests(KafkaBroker broker, PostgresDatabase database) : IClassFixture<KafkaBroker>, IClassFixture<PostgresDatabase>
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task Two_instances_never_mark_each_others_running_run_interrupted()
    {
        var (settings, _) = await NewLedgerAsync();
        await using var randomUser = await FakeRandomUserApi.StartAsync();
        randomUser.Enqueue(FakeAnswer.Users, FakeAnswer.Hang(TimeSpan.FromSeconds(60)));
        settings["Ingest:Source"] = "RandomUser";
        settings["Ingest:RandomUser:BaseAddress"] = randomUser.BaseAddress.ToString();
        settings["Ingest:RandomUser:AttemptTimeout"] = "00:01:00";
        settings["Ingest:PageSize"] = "10";

        await using var first = await StageHost.StartIngestAsync(With(settings, "ingestor-a"), cancellationToken: Ct);
        var running = (await first.Api.TriggerAsync(30, cancellationToken: Ct)).Id;
        Assert.True(await Eventually.TrueAsync(() => randomUser.Requests.Count >= 2, cancellationToken: Ct), "the first instance's run did not reach its second page");

        // A second instance starts while the first one's run is in progress, and outlives several leases.
        await using var second = await StageHost.StartIngestAsync(With(settings, "ingestor-b"), cancellationToken: Ct);
        Assert.Equal("running", (await second.Api.GetRunAsync(running, cancellationToken: Ct)).Status);
        await Task.Delay(Lease * 3, TestContext.Current.CancellationToken);

        // Asking the second instance for a run is refused: the first instance's run is alive and stays its own.
        using var refused = await second.Api.PostRunsAsync(new { size = 5 }, cancellationToken: Ct);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Contains("another live instance", await refused.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
        var row = Assert.Single(await LedgerRows.ReadAsync(settings["ConnectionStrings:pipeline-db"]!));
        Assert.Equal((running, "running"), (row.Id, row.Status));
        Assert.Equal("ingestor-a", await OwnerAsync(settings, running));
    }

    [Fact]
    public async Task A_run_whose_owner_stopped_renewing_its_lease_is_taken_over_by_the_next_start_of_a_run()
    {
        var (settings, connectionString) = await NewLedgerAsync();
        var orphan = await InsertRunningAsync(connectionString, "ingestor-gone");

        await using var stage = await StageHost.StartIngestAsync(With(settings, "ingestor-b"), cancellationToken: Ct);
        Assert.Equal("running", (await stage.Api.GetRunAsync(orphan, cancellationToken: Ct)).Status); // its lease was fresh at startup

        using (var refused = await stage.Api.PostRunsAsync(new { size = 5 }, cancellationToken: Ct))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode); // its owner may still be alive
        }

        await Task.Delay(Lease + TimeSpan.FromSeconds(1), TestContext.Current.CancellationToken);
        using (var accepted = await stage.Api.PostRunsAsync(new { size = 5 }, cancellationToken: Ct))
        {
            Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode); // the lease lapsed: the first request takes over
        }

        var taken = await stage.Api.GetRunAsync(orphan, cancellationToken: Ct);
        Assert.Equal("failed", taken.Status);
        Assert.StartsWith("interrupted", taken.Error, StringComparison.Ordinal);
        var runs = await stage.Api.WaitForHistoryAsync(h => h.Any(r => r.Id != orphan && r.Status == "succeeded"), cancellationToken: Ct);
        Assert.Contains(runs, r => r is { Status: "succeeded", Produced: 5 });
    }

    [Fact]
    public async Task An_instance_marks_its_own_leftover_run_interrupted_at_startup_even_with_a_fresh_lease()
    {
        var (settings, connectionString) = await NewLedgerAsync();
        var leftover = await InsertRunningAsync(connectionString, "ingestor-b");
        settings["Ingest:RunLease"] = "00:10:00";

        await using var stage = await StageHost.StartIngestAsync(With(settings, "ingestor-b"), cancellationToken: Ct);

        var marked = await stage.Api.GetRunAsync(leftover, cancellationToken: Ct);
        Assert.Equal("failed", marked.Status);
        Assert.StartsWith("interrupted", marked.Error, StringComparison.Ordinal);
    }

    private async Task<(Dictionary<string, string?> Settings, string ConnectionString)> NewLedgerAsync()
    {
        var topic = broker.NewTopic("users-created", partitions: 3);
        var ledger = await database.NewSchemaAsync();
        var settings = IngestTestHost.Settings(broker, ledger, topic);
        settings["Ingest:RunLease"] = Lease.ToString();
        await using (await StageHost.StartIngestAsync(With(settings, "ingestor-setup")))
        {
            // Creates the ledger's tables.
        }

        return (settings, ledger);
    }

    private static Dictionary<string, string?> With(Dictionary<string, string?> settings, string instanceId) =>
        new(settings) { ["Ingest:InstanceId"] = instanceId };

    /// <summary>What an instance leaves behind when it is killed mid-run: a running row with a lease renewed just now.</summary>
    private static async Task<Guid> InsertRunningAsync(string connectionString, string owner)
    {
        var id = Guid.CreateVersion7();
        await using var source = NpgsqlDataSource.Create(connectionString);
        await using var insert = source.CreateCommand(
            "INSERT INTO ingest_runs (id, trigger, source, seed, requested, status, started_at, owner, heartbeat_at) " +
            "VALUES ($1, 'manual', 'generator', 'seed', 100, 'running', now(), $2, now())");
        insert.Parameters.Add(new NpgsqlParameter { Value = id });
        insert.Parameters.Add(new NpgsqlParameter { Value = owner });
        await insert.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
        return id;
    }

    private static async Task<string?> OwnerAsync(Dictionary<string, string?> settings, Guid id)
    {
        await using var source = NpgsqlDataSource.Create(settings["ConnectionStrings:pipeline-db"]!);
        await using var select = source.CreateCommand("SELECT owner FROM ingest_runs WHERE id = $1");
        select.Parameters.Add(new NpgsqlParameter { Value = id });
        return (string?)await select.ExecuteScalarAsync(TestContext.Current.CancellationToken);
    }
}
