using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace UserStream.Tests.Ingest.Support;

/// <summary>A run as <c>GET /runs/{id}</c> shows it (the API's JSON contract, read independently of the library's types).</summary>
public sealed record RunDto(
    Guid Id,
    string Trigger,
    string Source,
    string Seed,
    string Status,
    int Requested,
    int Fetched,
    int Produced,
    int Failed,
    int WithoutKey,
    int FetchAttempts,
    string? Error,
    DateTimeOffset StartedAt,
    DateTimeOffset? EndedAt,
    string? TraceId);

public sealed record ScheduleDto(string Interval, int Size, bool Paused, DateTimeOffset? NextRunAt, string SetBy, DateTimeOffset UpdatedAt, int MaxRunSize);

/// <summary>The ingest API as a user calls it.</summary>
public sealed class IngestApiClient(HttpClient http)
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public HttpClient Http { get; } = http;

    /// <summary>Waits until the stage prepared its ledger (GET /schedule answers 200).</summary>
    public async Task WaitUntilReadyAsync()
    {
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            using var response = await Http.GetAsync("/schedule");
            if (response.StatusCode == HttpStatusCode.OK)
            {
                return;
            }

            Assert.True(DateTime.UtcNow < until, $"the stage did not become ready: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            await Task.Delay(50);
        }
    }

    /// <summary>POST /runs; asserts 202 and returns the run.</summary>
    public async Task<RunDto> TriggerAsync(int? size = null)
    {
        using var response = await PostRunsAsync(size is null ? null : new { size });
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"POST /runs answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        var run = await response.Content.ReadFromJsonAsync<RunDto>(Json);
        Assert.NotNull(run);
        Assert.Equal($"/runs/{run.Id}", response.Headers.Location?.ToString());
        return run;
    }

    public Task<HttpResponseMessage> PostRunsAsync(object? body) =>
        body is null ? Http.PostAsync("/runs", null) : Http.PostAsJsonAsync("/runs", body);

    public async Task<RunDto> GetRunAsync(Guid id) =>
        (await Http.GetFromJsonAsync<RunDto>($"/runs/{id}", Json))!;

    public async Task<IReadOnlyList<RunDto>> ListAsync(int? limit = null) =>
        (await Http.GetFromJsonAsync<List<RunDto>>(limit is null ? "/runs" : $"/runs?limit={limit}", Json))!;

    public async Task<ScheduleDto> GetScheduleAsync() => (await Http.GetFromJsonAsync<ScheduleDto>("/schedule", Json))!;

    /// <summary>Polls the run until it is no longer running.</summary>
    public async Task<RunDto> WaitForRunAsync(Guid id, TimeSpan? timeout = null)
    {
        var until = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            var run = await GetRunAsync(id);
            if (run.Status != "running")
            {
                return run;
            }

            Assert.True(DateTime.UtcNow < until, $"run {id} still running: {run}");
            await Task.Delay(50);
        }
    }

    /// <summary>Polls GET /runs until <paramref name="done"/> holds for the history; returns it.</summary>
    public async Task<IReadOnlyList<RunDto>> WaitForHistoryAsync(Func<IReadOnlyList<RunDto>, bool> done, TimeSpan? timeout = null)
    {
        var until = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            var runs = await ListAsync(100);
            if (done(runs))
            {
                return runs;
            }

            Assert.True(DateTime.UtcNow < until, $"history never got there: {string.Join("; ", runs)}");
            await Task.Delay(100);
        }
    }
}
