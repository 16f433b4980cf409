using Microsoft.Extensions.Diagnostics.HealthChecks;
using UserStream.Sink.Store;
using UserStream.Sink.Telemetry;
using UserStream.Streaming.Hosting;
using UserStream.Tests.Process;

namespace UserStream.Tests.Sink;

/// <summary>
/// Failures that are neither a data error nor an outage, a dead-letter topic that refuses writes, a stalled
/// loop: the sink decides by evidence, never restarts its loop for them, and says so on its health check.
/// </summary>
public sealed class SinkReliabilityTests(KafkaBroker broker, PostgresDatabase database, ITestOutputHelper output) : SinkTests(broker, database)
{
    private static readonly string WorkerCheck = StreamingServiceCollectionExtensions.WorkerHealthCheckName("sink");

    [Fact]
    public async Task A_record_the_store_refuses_while_it_answers_costs_seconds_and_a_real_outage_dead_letters_nothing()
    {
        var rig = NewRig();
        var users = TestUsers.Users(30, seed: 111);
        var poison = users[13];
        var good = users.Where(u => u.Id != poison.Id).ToList();
        await using var sink = await rig.StartSinkAsync();
        await Eventually.Async(() => Task.FromResult(sink.Services.GetRequiredService<StoreReadiness>().IsReady), ready => ready, cancellationToken: Ct);

        // A trigger that refuses one user with SQLSTATE P0001: neither a data error nor an outage.
        await ExecuteAsync($"""
            CREATE OR REPLACE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.id = '{poison.Id}'::uuid THEN RAISE EXCEPTION 'poison user %', NEW.id; END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER refuse_poison BEFORE INSERT OR UPDATE ON created_users FOR EACH ROW EXECUTE FUNCTION refuse_poison();
            """);
        try
        {
            var started = Stopwatch.GetTimestamp();
            await rig.ProduceAsync(users);
            Assert.Equal(good.Count, await rig.WaitForRowsAsync([.. good.Select(u => u.Id)], good.Count));
            var deadLetters = rig.ReadDeadLetters(1);
            var cost = Stopwatch.GetElapsedTime(started);
            Assert.Equal(users.Count, await rig.WaitForCommittedAsync(users.Count));
            output.WriteLine($"30 users on 3 partitions, one refused by a P0001 trigger: 29 stored and 1 dead-lettered after {cost.TotalSeconds:0.00} s");

            var deadLetter = Assert.Single(deadLetters);
            Assert.Equal(poison.Id.ToString(), deadLetter.Message.Key);
            Assert.Equal(EnrichedUserJson.Serialize(poison), deadLetter.Message.Value);
            Assert.Equal("store_rejected", deadLetter.Message.Headers.GetString(DeadLetterHeaders.ErrorCode));
            var reason = deadLetter.Message.Headers.GetString(DeadLetterHeaders.Reason);
            Assert.Contains("P0001", reason, StringComparison.Ordinal);
            Assert.Contains("poison user", reason, StringComparison.Ordinal);
            Assert.Equal(0, await rig.RowsAsync([poison.Id]));
        }
        finally
        {
            await ExecuteAsync("DROP TRIGGER IF EXISTS refuse_poison ON created_users");
        }

        // A real outage in the same sink: nothing dead-lettered, nothing committed, health Degraded; then all land.
        var during = TestUsers.Users(30, seed: 112);
        var states = new List<HealthStatus>();
        var storeStates = new List<HealthStatus>();
        var committedDuring = new List<long>();
        Assert.Equal(HealthStatus.Healthy, (await sink.HealthAsync(StoreHealthCheck.Name, Ct)).Status);
        await Database.RefuseConnectionsAsync();
        try
        {
            await rig.ProduceAsync(during);
            for (var i = 0; i < 12; i++)
            {
                states.Add((await sink.HealthAsync(WorkerCheck, Ct)).Status);
                storeStates.Add((await sink.HealthAsync(StoreHealthCheck.Name, Ct)).Status);
                committedDuring.Add(rig.CommittedTotal());
                await Task.Delay(250, Ct);
            }
        }
        finally
        {
            await Database.AcceptConnectionsAsync();
        }

        Assert.All(committedDuring, committed => Assert.Equal(users.Count, committed));
        Assert.Contains(HealthStatus.Degraded, states);
        Assert.DoesNotContain(HealthStatus.Unhealthy, states);
        Assert.All(storeStates, state => Assert.Equal(HealthStatus.Unhealthy, state)); // the store is part of readiness
        Assert.Equal(HealthStatus.Healthy, (await Eventually.Async(() => sink.HealthAsync(StoreHealthCheck.Name, Ct), e => e.Status == HealthStatus.Healthy, cancellationToken: Ct)).Status);
        Assert.Equal(during.Count, await rig.WaitForRowsAsync([.. during.Select(u => u.Id)], during.Count));
        Assert.Equal(users.Count + during.Count, await rig.WaitForCommittedAsync(users.Count + during.Count));
        Assert.Single(rig.ReadDeadLetters(2, TimeSpan.FromSeconds(2)));
        Assert.Equal(HealthStatus.Healthy, (await Eventually.Async(() => sink.HealthAsync(WorkerCheck, Ct), e => e.Status == HealthStatus.Healthy, cancellationToken: Ct)).Status);
    }

    [Fact]
    public async Task A_dead_letter_topic_that_refuses_writes_holds_the_batch_without_restarting_the_loop_and_it_recovers()
    {
        using var metrics = new StageMetrics(StageTelemetry.Sink);
        var rig = NewRig();
        var users = TestUsers.Users(20, seed: 113);
        var messages = users.Select(TestUsers.Message).ToList();
        messages.Insert(5, TestUsers.Message("empty", []));
        messages.Insert(12, TestUsers.Message("not-json", "{ not json"u8.ToArray()));
        await rig.ProduceAsync(messages);

        // From now on every produce request fails as if the sink had lost its write privilege on the topic.
        Broker.PushRequestErrors(KafkaApi.Produce, [.. Enumerable.Repeat(ErrorCode.TopicAuthorizationFailed, 10_000)]);
        StageHost sink;
        var states = new List<HealthStatus>();
        try
        {
            sink = await rig.StartSinkAsync();
            await Eventually.Async(
                () => Task.FromResult(metrics.Sum(sink, SinkMetrics.DeadLetterRetriesName)), retries => retries >= 3, cancellationToken: Ct);
            for (var i = 0; i < 10; i++)
            {
                states.Add((await sink.HealthAsync(WorkerCheck, Ct)).Status);
                await Task.Delay(200, Ct);
            }

            Assert.Empty(rig.ReadDeadLetters(1, TimeSpan.FromSeconds(1)));
            Assert.True(rig.CommittedTotal() < messages.Count, "a batch was committed before its dead letters were acknowledged");
        }
        finally
        {
            Broker.ClearRequestErrors(KafkaApi.Produce);
        }

        await using (sink)
        {
            Assert.Equal(2, rig.ReadDeadLetters(2).Count);
            Assert.Equal(users.Count, await rig.WaitForRowsAsync([.. users.Select(u => u.Id)], users.Count));
            Assert.Equal(messages.Count, await rig.WaitForCommittedAsync(messages.Count));
            Assert.Equal(HealthStatus.Healthy, (await Eventually.Async(() => sink.HealthAsync(WorkerCheck, Ct), e => e.Status == HealthStatus.Healthy, cancellationToken: Ct)).Status);
            Assert.Equal(0, metrics.Sum(sink, SinkMetrics.WorkerRestartsName));
            Assert.True(metrics.Sum(sink, SinkMetrics.DeadLetterRetriesName) >= 3);
            Assert.All(states, state => Assert.Equal(HealthStatus.Degraded, state));
        }
    }

    [Fact]
    public async Task A_loop_that_makes_no_progress_while_records_wait_is_unhealthy_and_healthy_again_once_it_moves()
    {
        using var metrics = new StageMetrics(StageTelemetry.Sink);
        var rig = NewRig();
        var users = TestUsers.Users(40, seed: 114);
        var settings = rig.Settings();
        settings["Sink:Health:StallAfter"] = "00:00:01";
        await using var sink = await rig.StartSinkAsync(settings);
        await Eventually.Async(() => Task.FromResult(sink.Services.GetRequiredService<StoreReadiness>().IsReady), ready => ready, cancellationToken: Ct);
        Assert.Equal(HealthStatus.Healthy, (await Eventually.Async(() => sink.HealthAsync(WorkerCheck, Ct), e => e.Status == HealthStatus.Healthy, cancellationToken: Ct)).Status);

        // The store answers but every write blocks behind a lock: no error, no progress.
        await using var source = Database.CreateDataSource();
        await using var connection = await source.OpenConnectionAsync(Ct);
        await using var transaction = await connection.BeginTransactionAsync(Ct);
        await using (var lockTable = new NpgsqlCommand("LOCK TABLE created_users IN ACCESS EXCLUSIVE MODE", connection, transaction))
        {
            await lockTable.ExecuteNonQueryAsync(Ct);
        }

        await rig.ProduceAsync(users);
        var stalled = await Eventually.Async(() => sink.HealthAsync(WorkerCheck, Ct), e => e.Status == HealthStatus.Unhealthy, TimeSpan.FromSeconds(20), cancellationToken: Ct);
        Assert.Equal(HealthStatus.Unhealthy, stalled.Status);
        Assert.Contains("stalled", stalled.Description, StringComparison.Ordinal);
        await transaction.RollbackAsync(Ct);

        Assert.Equal(users.Count, await rig.WaitForRowsAsync([.. users.Select(u => u.Id)], users.Count));
        Assert.Equal(HealthStatus.Healthy, (await Eventually.Async(() => sink.HealthAsync(WorkerCheck, Ct), e => e.Status == HealthStatus.Healthy, cancellationToken: Ct)).Status);
        Assert.True(metrics.Sum(sink, SinkMetrics.WorkerStallsName) >= 1);
        Assert.Equal(0, metrics.Sum(sink, SinkMetrics.WorkerRestartsName));
    }

    [Fact]
    public async Task A_stall_time_out_of_range_stops_the_sink_at_startup_naming_the_key()
    {
        var rig = new SinkRig(Broker, Database);
        var settings = rig.Settings();
        settings["Sink:Health:StallAfter"] = "00:00:00";
        var failure = await Assert.ThrowsAnyAsync<Exception>(() => rig.StartSinkAsync(settings));
        Assert.Contains("Sink:Health:StallAfter", failure.Message, StringComparison.Ordinal);
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var source = Database.CreateDataSource();
        await using var command = source.CreateCommand(sql);
        await command.ExecuteNonQueryAsync(Ct);
    }
}
