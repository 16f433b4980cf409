using System.Net.Http.Headers;
using UserStream.Streaming.Hosting;
using UserStream.Tests.Ingest.Support;

namespace UserStream.Tests.Ingest;

/// <summary>
/// The ingest API defends itself: out-of-range and oversized values, bodies that are too large or not JSON, and
/// mutating requests without the API key are answered 4xx ProblemDetails, never 500, and never read past the cap.
/// </summary>
public sealed class IngestApiDefenceTests(KafkaBroker broker, PostgresDatabase database, ITestOutputHelper output)
    : IClassFixture<KafkaBroker>, IClassFixture<PostgresDatabase>
{
    private const string Key = "test-api-key-0123456789";
    [Fact]
    public async Task Hostile_requests_get_a_4xx_problem_naming_what_is_wrong()
    {
        await using var stage = await StageHost.StartIngestAsync(await SettingsAsync(), cancellationToken: Ct);
        var http = stage.Api.Http;
        var cases = new (string Method, string Path, HttpContent Content, HttpStatusCode Status, string Mentions)[]
        {
            ("PUT", "/schedule", Json("""{"interval":"P10675200D"}"""), HttpStatusCode.BadRequest, "interval"),
            ("PUT", "/schedule", Json("""{"interval":"P99999999999999D"}"""), HttpStatusCode.BadRequest, "interval"),
            ("POST", "/runs", Json("{\"size\":99999999999999999999}"), HttpStatusCode.BadRequest, "size"),
            ("POST", "/runs", new StringContent("""{"size":5}""", Encoding.UTF8, "text/plain"), HttpStatusCode.UnsupportedMediaType, "application/json"),
            ("PUT", "/schedule", new StringContent("""{"paused":true}"""), HttpStatusCode.UnsupportedMediaType, "application/json"),
            ("POST", "/runs", Json("{\"size\":5" + new string(' ', 17 * 1024) + "}"), HttpStatusCode.RequestEntityTooLarge, "16384 bytes"),
            ("POST", "/runs", Chunked(1024 * 1024), HttpStatusCode.RequestEntityTooLarge, "16384 bytes"),
        };

        foreach (var (method, path, content, status, mentions) in cases)
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = content };
            request.Headers.Add(ApiKeyOptions.HeaderName, Key);
            using var response = await http.SendAsync(request, Ct);
            await AssertProblemAsync(response, status, mentions, $"{method} {path}");
        }

        Assert.Empty(await stage.Api.ListAsync(cancellationToken: Ct));
    }

    [Fact]
    public async Task Mutating_endpoints_require_the_configured_api_key_and_reads_stay_open()
    {
        await using var stage = await StageHost.StartIngestAsync(await SettingsAsync(), cancellationToken: Ct);
        var http = stage.Api.Http;

        Assert.Equal(HttpStatusCode.Unauthorized, await SendAsync(http, "POST", "/runs", """{"size":1}""", key: null));
        Assert.Equal(HttpStatusCode.Unauthorized, await SendAsync(http, "PUT", "/schedule", """{"paused":true}""", key: null));
        Assert.Equal(HttpStatusCode.Forbidden, await SendAsync(http, "POST", "/runs", """{"size":1}""", key: "not-the-key-0123456789"));
        Assert.Equal(HttpStatusCode.Forbidden, await SendAsync(http, "PUT", "/schedule", """{"paused":true}""", key: Key + "x"));
        Assert.Empty(await stage.Api.ListAsync(cancellationToken: Ct));

        Assert.Equal(HttpStatusCode.OK, await SendAsync(http, "GET", "/runs", null, key: null));
        Assert.Equal(HttpStatusCode.OK, await SendAsync(http, "GET", "/schedule", null, key: null));
        Assert.Equal(HttpStatusCode.OK, await SendAsync(http, "PUT", "/schedule", """{"paused":true}""", key: Key));
        Assert.Equal(HttpStatusCode.Accepted, await SendAsync(http, "POST", "/runs", """{"size":1}""", key: Key));
    }

    [Fact]
    public async Task Without_a_configured_key_mutating_endpoints_are_open()
    {
        var settings = await SettingsAsync();
        settings.Remove("Api:Key");
        await using var stage = await StageHost.StartIngestAsync(settings, cancellationToken: Ct);

        Assert.Equal(HttpStatusCode.Accepted, await SendAsync(stage.Api.Http, "POST", "/runs", """{"size":1}""", key: null));
    }

    [Fact]
    public async Task A_short_api_key_is_refused_at_startup_naming_the_key()
    {
        var settings = await SettingsAsync();
        settings["Api:Key"] = "short";

        var error = await Assert.ThrowsAnyAsync<Exception>(() => StageHost.StartIngestAsync(settings, cancellationToken: Ct));
        Assert.Contains("Api:Key", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Twenty_parallel_oversized_chunked_bodies_leave_the_ingestors_memory_flat()
    {
        const int bodies = 20;
        const int bodyBytes = 29 * 1024 * 1024;
        var settings = await SettingsAsync();
        var port = StageProcess.FreePort();
        settings["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        await using var ingestor = StageProcess.Start("ingest", settings);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(60) };
        var ready = await Eventually.Async(async () => await TryGetAsync(http, "/schedule"), status => status == HttpStatusCode.OK, TimeSpan.FromSeconds(60), cancellationToken: Ct);
        Assert.True(ready == HttpStatusCode.OK, $"the ingestor never became ready:\n{ingestor.RecentOutput()}");

        var before = ingestor.MemoryMiB("VmRSS");
        var outcomes = await Task.WhenAll(Enumerable.Range(0, bodies).Select(async _ =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/runs") { Content = Chunked(bodyBytes) };
            request.Headers.Add(ApiKeyOptions.HeaderName, Key);
            try
            {
                using var response = await http.SendAsync(request, Ct);
                return ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
            }
            catch (HttpRequestException e)
            {
                // The server answered before the client had sent the whole body, and closed the connection.
                return "connection closed: " + e.HttpRequestError;
            }
        }));
        var peak = ingestor.MemoryMiB("VmHWM");

        var summary = string.Join(", ", outcomes.GroupBy(o => o).Select(g => $"{g.Count()} x {g.Key}"));
        output.WriteLine($"{bodies} parallel chunked bodies of {bodyBytes / 1024 / 1024} MiB: ingestor resident {before:F0} MiB before, peak {peak:F0} MiB; answers: {summary}");
        Assert.DoesNotContain(outcomes, o => o.StartsWith('2') || o.StartsWith('5'));
        Assert.Contains("413", outcomes);
        Assert.True(peak - before < 150, $"the ingestor grew from {before:F0} to {peak:F0} MiB: bodies were buffered");
        Assert.Empty(await new IngestApiClient(http).ListAsync(cancellationToken: Ct));
    }

    private async Task<Dictionary<string, string?>> SettingsAsync()
    {
        var topic = broker.NewTopic("users-created", partitions: 3);
        var settings = IngestTestHost.Settings(broker, await database.NewSchemaAsync(), topic);
        settings["Api:Key"] = Key;
        return settings;
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    /// <summary>A JSON-typed body of <paramref name="bytes"/> spaces, sent chunked (no Content-Length) and made as it is sent.</summary>
    private static PushStreamContent Chunked(int bytes)
    {
        var content = new PushStreamContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }

    private static async Task<HttpStatusCode> SendAsync(HttpClient http, string method, string path, string? body, string? key)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (body is not null)
        {
            request.Content = Json(body);
        }

        if (key is not null)
        {
            request.Headers.Add(ApiKeyOptions.HeaderName, key);
        }

        using var response = await http.SendAsync(request, Ct);
        if ((int)response.StatusCode >= 400)
        {
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }

        return response.StatusCode;
    }

    private static async Task<HttpStatusCode?> TryGetAsync(HttpClient http, string path)
    {
        try
        {
            using var response = await http.GetAsync(path, Ct);
            return response.StatusCode;
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    /// <summary>Writes its bytes in 64 KiB pieces as the request is sent, with no length known in advance.</summary>
    private sealed class PushStreamContent(int bytes) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            var piece = new byte[64 * 1024];
            Array.Fill(piece, (byte)' ');
            for (var sent = 0; sent < bytes; sent += piece.Length)
            {
                await stream.WriteAsync(piece.AsMemory(0, Math.Min(piece.Length, bytes - sent)));
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
