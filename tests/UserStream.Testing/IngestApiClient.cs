using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using UserStream.Ingest.Endpoints;

namespace UserStream.Testing;

/// <summary>
/// The ingest API as a user calls it, on the API's own models (<see cref="RunView"/>, <see cref="ScheduleView"/>):
/// the one client of tests, benchmarks and AppHost tests. It honours the API's answers: a trigger refused with 409
/// (the previous run is still being released) or 503 (the ledger is not reachable yet) is asked again. An answer
/// the caller did not expect fails with <see cref="InvalidOperationException"/>, a wait that ran out with
/// <see cref="TimeoutException"/>, both saying what the API answered.
/// </summary>
public sealed class IngestApiClient(HttpClient http) : IDisposable
{
    /// <summary>How long a run may take in the tests' and benchmarks' pipelines before a wait for it gives up.</summary>
    public static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(60);

    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(50);

    /// <summary>The API's JSON (web defaults: camelCase).</summary>
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public HttpClient Http { get; } = http;

    public void Dispose() => Http.Dispose();

    /// <summary>
    /// Waits until the stage prepared its ledger (GET /schedule answers 200); a stage not listening yet is asked
    /// again. <paramref name="output"/> adds what the stage wrote to the failure message.
    /// </summary>
    public async Task WaitUntilReadyAsync(TimeSpan? timeout = null, Func<string>? output = null, CancellationToken cancellationToken = default)
    {
        var until = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        var last = "no answer";
        while (true)
        {
            try
            {
                using var response = await Http.GetAsync(new Uri("/schedule", UriKind.Relative), cancellationToken);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }

                last = $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken)}";
            }
            catch (HttpRequestException e)
            {
                last = e.Message; // not listening yet
            }

            if (DateTime.UtcNow > until)
            {
                throw new TimeoutException($"the ingest stage did not become ready: {last}{(output is null ? "" : "\n" + output())}");
            }

            await Task.Delay(Poll, cancellationToken);
        }
    }

    /// <summary>POST /runs once; expects 202 with the run's <c>Location</c> and returns the run.</summary>
    public async Task<RunView> TriggerAsync(int? size = null, CancellationToken cancellationToken = default)
    {
        using var response = await PostRunsAsync(size is null ? null : new TriggerRunRequest(size), cancellationToken);
        await ExpectAsync(response, HttpStatusCode.Accepted, "POST /runs", cancellationToken);
        var run = await response.Content.ReadFromJsonAsync<RunView>(Json, cancellationToken)
            ?? throw new InvalidOperationException("POST /runs answered 202 without a run");
        if (response.Headers.Location?.ToString() != $"/runs/{run.Id}")
        {
            throw new InvalidOperationException($"POST /runs answered Location {response.Headers.Location}, not /runs/{run.Id}");
        }

        return run;
    }

    /// <summary>
    /// POST /runs {size}, asked again every <paramref name="retryDelay"/> (50 ms unless told) while the answer is 409
    /// or 503, for <paramref name="patience"/> (15 s unless told); returns the run.
    /// </summary>
    public async Task<RunView> StartRunAsync(
        int size, TimeSpan? patience = null, TimeSpan? retryDelay = null, CancellationToken cancellationToken = default)
    {
        var until = DateTime.UtcNow + (patience ?? TimeSpan.FromSeconds(15));
        while (true)
        {
            using var response = await PostRunsAsync(new TriggerRunRequest(size), cancellationToken);
            if (response.StatusCode == HttpStatusCode.Accepted)
            {
                return (await response.Content.ReadFromJsonAsync<RunView>(Json, cancellationToken))!;
            }

            if (response.StatusCode is not (HttpStatusCode.Conflict or HttpStatusCode.ServiceUnavailable) || DateTime.UtcNow > until)
            {
                throw new InvalidOperationException($"POST /runs answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellationToken)}");
            }

            await Task.Delay(retryDelay ?? Poll, cancellationToken);
        }
    }

    /// <summary>Starts a run of <paramref name="size"/> users (<see cref="StartRunAsync"/>) and waits until it ended (<see cref="WaitForRunAsync"/>).</summary>
    public async Task<RunView> RunAsync(int size, CancellationToken cancellationToken = default) =>
        await WaitForRunAsync((await StartRunAsync(size, cancellationToken: cancellationToken)).Id, RunTimeout, cancellationToken);

    /// <summary>POST /runs with <paramref name="body"/> as JSON (none when null), as it is answered.</summary>
    public Task<HttpResponseMessage> PostRunsAsync(object? body, CancellationToken cancellationToken = default) =>
        body is null
            ? Http.PostAsync(new Uri("/runs", UriKind.Relative), null, cancellationToken)
            : Http.PostAsJsonAsync(new Uri("/runs", UriKind.Relative), body, cancellationToken);

    public async Task<RunView> GetRunAsync(Guid id, CancellationToken cancellationToken = default) =>
        (await Http.GetFromJsonAsync<RunView>(new Uri($"/runs/{id}", UriKind.Relative), Json, cancellationToken))!;

    /// <summary>GET /runs (the latest first), at most <paramref name="limit"/> when given.</summary>
    public async Task<IReadOnlyList<RunView>> ListAsync(int? limit = null, CancellationToken cancellationToken = default) =>
        (await Http.GetFromJsonAsync<List<RunView>>(new Uri(limit is null ? "/runs" : $"/runs?limit={limit}", UriKind.Relative), Json, cancellationToken))!;

    public async Task<ScheduleView> GetScheduleAsync(CancellationToken cancellationToken = default) =>
        (await Http.GetFromJsonAsync<ScheduleView>(new Uri("/schedule", UriKind.Relative), Json, cancellationToken))!;

    /// <summary>
    /// GET /runs/{id} until the run is no longer running (30 s unless told); a 503 (ledger unreachable, e.g. just
    /// after a database outage) is asked again.
    /// </summary>
    public async Task<RunView> WaitForRunAsync(Guid id, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var until = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            using var response = await Http.GetAsync(new Uri($"/runs/{id}", UriKind.Relative), cancellationToken);
            RunView? run = null;
            if (response.StatusCode == HttpStatusCode.OK)
            {
                run = await response.Content.ReadFromJsonAsync<RunView>(Json, cancellationToken);
                if (run is { Status: not "running" })
                {
                    return run;
                }
            }
            else if (response.StatusCode != HttpStatusCode.ServiceUnavailable)
            {
                throw new InvalidOperationException($"GET /runs/{id} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellationToken)}");
            }

            if (DateTime.UtcNow > until)
            {
                throw new TimeoutException($"run {id} did not end within {timeout ?? TimeSpan.FromSeconds(30)}: {run?.ToString() ?? "503"}");
            }

            await Task.Delay(Poll, cancellationToken);
        }
    }

    /// <summary>The runs <paramref name="ids"/>, each once it has ended.</summary>
    public async Task<List<RunView>> WaitForRunsAsync(IEnumerable<Guid> ids, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var runs = new List<RunView>();
        foreach (var id in ids)
        {
            runs.Add(await WaitForRunAsync(id, RunTimeout, cancellationToken));
        }

        return runs;
    }

    /// <summary>Polls GET /runs until <paramref name="done"/> holds for the history (30 s unless told); returns it.</summary>
    public async Task<IReadOnlyList<RunView>> WaitForHistoryAsync(
        Func<IReadOnlyList<RunView>, bool> done, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(done);
        var runs = await Eventually.Async(t => ListAsync(100, t), done, timeout, TimeSpan.FromMilliseconds(100), cancellationToken);
        return done(runs) ? runs : throw new TimeoutException($"history never got there: {string.Join("; ", runs)}");
    }

    private static async Task ExpectAsync(HttpResponseMessage response, HttpStatusCode expected, string what, CancellationToken cancellationToken)
    {
        if (response.StatusCode != expected)
        {
            throw new InvalidOperationException($"{what} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellationToken)}");
        }
    }
}
