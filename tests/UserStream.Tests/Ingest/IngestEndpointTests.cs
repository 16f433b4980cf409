using System.Net.Http.Json;
using UserStream.Tests.Ingest.Support;

namespace UserStream.Tests.Ingest;

/// <summary>The ingest API answers as documented, bad requests included.</summary>
public sealed class IngestEndpointTests(KafkaBroker broker, PostgresDatabase database) : IClassFixture<KafkaBroker>, IClassFixture<PostgresDatabase>
{
    private static readonly (string Method, string Path, string? Body, HttpStatusCode Status, string Mentions)[] BadRequests =
    [
        ("POST", "/runs", """{"size":-1}""", HttpStatusCode.BadRequest, "size"),
        ("POST", "/runs", """{"size":0}""", HttpStatusCode.BadRequest, "size"),
        ("POST", "/runs", """{"size":1001}""", HttpStatusCode.BadRequest, "size"),
        ("POST", "/runs", """{"size":"ten"}""", HttpStatusCode.BadRequest, "size"),
        ("POST", "/runs", """{"size":2.5}""", HttpStatusCode.BadRequest, "size"),
        ("POST", "/runs", """{"sise":5}""", HttpStatusCode.BadRequest, "sise"),
        ("POST", "/runs", "size=5", HttpStatusCode.BadRequest, "body"),
        ("GET", "/runs/not-a-uuid", null, HttpStatusCode.BadRequest, "id"),
        ("GET", "/runs/7b7f3a52-5c52-4e5e-9d0e-1c9f6a0f0c11", null, HttpStatusCode.NotFound, "No run has id 7b7f3a52-5c52-4e5e-9d0e-1c9f6a0f0c11"),
        ("GET", "/runs?limit=0", null, HttpStatusCode.BadRequest, "limit"),
        ("GET", "/runs?limit=501", null, HttpStatusCode.BadRequest, "limit"),
        ("GET", "/runs?limit=ten", null, HttpStatusCode.BadRequest, "limit"),
        ("PUT", "/schedule", """{"interval":"soon"}""", HttpStatusCode.BadRequest, "interval"),
        ("PUT", "/schedule", """{"interval":"00:00:00.500"}""", HttpStatusCode.BadRequest, "interval"),
        ("PUT", "/schedule", """{"interval":"2.00:00:00"}""", HttpStatusCode.BadRequest, "interval"),
        ("PUT", "/schedule", """{"size":-3}""", HttpStatusCode.BadRequest, "size"),
        ("PUT", "/schedule", """{"paused":"maybe"}""", HttpStatusCode.BadRequest, "paused"),
        ("PUT", "/schedule", "{}", HttpStatusCode.BadRequest, "body"),
        ("PUT", "/schedule", null, HttpStatusCode.BadRequest, "body"),
    ];

    [Fact]
    public async Task Bad_requests_get_a_problem_naming_what_is_wrong_and_start_nothing()
    {
        await using var stage = await StartAsync();
        var http = stage.Api.Http;

        foreach (var (method, path, body, status, mentions) in BadRequests)
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), path);
            if (body is not null)
            {
                request.Content = new StringContent(body, Encoding.UTF8, "application/json");
            }

            using var response = await http.SendAsync(request, Ct);
            await AssertProblemAsync(response, status, mentions, $"{method} {path} {body}");
        }

        Assert.Empty(await stage.Api.ListAsync(cancellationToken: Ct));
    }

    [Fact]
    public async Task A_trigger_while_a_run_is_in_progress_is_refused_with_409_naming_that_run()
    {
        await using var randomUser = await FakeRandomUserApi.StartAsync();
        randomUser.Enqueue(FakeAnswer.SlowUsers(TimeSpan.FromSeconds(2)));
        var settings = IngestTestHost.Settings(broker, await database.NewSchemaAsync(), broker.NewTopic("users-created", partitions: 3), randomUser);
        settings["Ingest:RandomUser:AttemptTimeout"] = "00:00:10";
        await using var stage = await StageHost.StartIngestAsync(settings, cancellationToken: Ct);

        var running = await stage.Api.TriggerAsync(5, cancellationToken: Ct);
        using var refused = await stage.Api.PostRunsAsync(new { size = 5 }, cancellationToken: Ct);

        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        var problem = await refused.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        Assert.Equal(running.Id, problem.GetProperty("runningRunId").GetGuid());
        Assert.Contains(running.Id.ToString(), problem.GetProperty("detail").GetString(), StringComparison.Ordinal);

        Assert.Equal("succeeded", (await stage.Api.WaitForRunAsync(running.Id, cancellationToken: Ct)).Status);
        var next = await stage.Api.TriggerAsync(5, cancellationToken: Ct);
        Assert.Equal("succeeded", (await stage.Api.WaitForRunAsync(next.Id, cancellationToken: Ct)).Status);
        Assert.Equal(2, (await stage.Api.ListAsync(cancellationToken: Ct)).Count);
    }

    [Fact]
    public async Task The_history_lists_runs_newest_first_up_to_the_limit_and_a_trigger_without_body_uses_the_schedule_size()
    {
        await using var stage = await StartAsync();

        var ids = new List<Guid>();
        foreach (var size in new int?[] { 3, null, 7 })
        {
            var run = await stage.Api.TriggerAsync(size, cancellationToken: Ct);
            Assert.Equal(("manual", "running", size ?? 5), (run.Trigger, run.Status, run.Requested));
            await stage.Api.WaitForRunAsync(run.Id, cancellationToken: Ct);
            ids.Add(run.Id);
        }

        var all = await stage.Api.ListAsync(cancellationToken: Ct);
        Assert.Equal(ids.AsEnumerable().Reverse(), all.Select(r => r.Id));
        Assert.Equal([7, 5, 3], all.Select(r => r.Produced));
        Assert.All(all, r => Assert.Equal("succeeded", r.Status));
        Assert.Equal(ids.AsEnumerable().Reverse().Take(2), (await stage.Api.ListAsync(limit: 2, cancellationToken: Ct)).Select(r => r.Id));
        Assert.Equal(all[1], await stage.Api.GetRunAsync(ids[1], cancellationToken: Ct));
    }

    [Fact]
    public async Task Schedule_changes_take_effect_and_survive_a_restart_and_a_paused_schedule_starts_nothing()
    {
        var ledger = await database.NewSchemaAsync();
        var topic = broker.NewTopic("users-created", partitions: 3);
        var settings = IngestTestHost.Settings(broker, ledger, topic);
        var ct = TestContext.Current.CancellationToken;

        await using (var first = await StageHost.StartIngestAsync(settings, cancellationToken: Ct))
        {
            var configured = await first.Api.GetScheduleAsync(cancellationToken: Ct);
            Assert.Equal(("00:00:01", 5, true, null, "configuration"), (configured.Interval, configured.Size, configured.Paused, configured.NextRunAt, configured.SetBy));

            using var resumed = await first.Api.Http.PutAsJsonAsync("/schedule", new { paused = false, size = 3 }, ct);
            Assert.Equal(HttpStatusCode.OK, resumed.StatusCode);
            var schedule = (await resumed.Content.ReadFromJsonAsync<ScheduleView>(IngestApiClient.Json, ct))!;
            Assert.Equal(("00:00:01", 3, false, "api"), (schedule.Interval, schedule.Size, schedule.Paused, schedule.SetBy));
            Assert.NotNull(schedule.NextRunAt);

            await first.Api.WaitForHistoryAsync(h => h.Count(r => r is { Trigger: "schedule", Status: "succeeded", Produced: 3 }) >= 2, cancellationToken: Ct);
            using var paused = await first.Api.Http.PutAsJsonAsync("/schedule", new { paused = true, interval = "PT2S" }, ct);
            Assert.Equal(HttpStatusCode.OK, paused.StatusCode);
            await first.Api.WaitForHistoryAsync(h => h.All(r => r.Status != "running"), cancellationToken: Ct);
        }

        // Configuration now says something else; the settings changed through the API win.
        settings["Ingest:Schedule:Paused"] = "false";
        settings["Ingest:Schedule:Interval"] = "00:00:01";
        await using var second = await StageHost.StartIngestAsync(settings, cancellationToken: Ct);
        var kept = await second.Api.GetScheduleAsync(cancellationToken: Ct);
        Assert.Equal(("00:00:02", 3, true, null, "api"), (kept.Interval, kept.Size, kept.Paused, kept.NextRunAt, kept.SetBy));

        var before = (await second.Api.ListAsync(100, cancellationToken: Ct)).Count;
        await Task.Delay(TimeSpan.FromSeconds(2.5), ct); // more than one interval: a paused schedule starts nothing
        Assert.Equal(before, (await second.Api.ListAsync(100, cancellationToken: Ct)).Count);

        using var resume = await second.Api.Http.PutAsJsonAsync("/schedule", new { paused = false }, ct);
        Assert.Equal(HttpStatusCode.OK, resume.StatusCode);
        await second.Api.WaitForHistoryAsync(h => h.Count > before && h.All(r => r.Status != "running"), cancellationToken: Ct);
        Assert.Equal("succeeded", (await second.Api.ListAsync(1, cancellationToken: Ct))[0].Status);
    }

    private async Task<IngestStage> StartAsync() =>
        await StageHost.StartIngestAsync(IngestTestHost.Settings(broker, await database.NewSchemaAsync(), broker.NewTopic("users-created", partitions: 3)));
}
