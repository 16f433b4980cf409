using UserStream.Ingest;
using UserStream.Tests.Ingest.Support;

namespace UserStream.Tests.Ingest;

/// <summary>
/// Every way the randomuser API fails (as it did in its 2026 outage) is retried, then recorded as the
/// run's failure with the reason, and the service keeps its schedule.
/// </summary>
public sealed class FetchFailureTests(KafkaBroker broker, PostgresDatabase database) : IClassFixture<KafkaBroker>, IClassFixture<PostgresDatabase>
{
    private const int Attempts = 3; // MaxRetries = 2 in the test settings

    public static TheoryData<string, string> FailureModes => new()
    {
        { "HTTP 500", "http_status" },
        { "HTTP 503", "http_status" },
        { "timeout", "timeout" },
        { "error field", "api_error" },
        { "truncated JSON", "malformed_json" },
        { "empty results", "empty_results" },
    };

    [Theory]
    [MemberData(nameof(FailureModes))]
    public async Task A_failing_API_is_retried_then_the_run_fails_with_the_reason_and_the_next_scheduled_run_succeeds(string mode, string reason)
    {
        var topic = broker.NewTopic("users-created", partitions: 3);
        var ledger = await database.NewSchemaAsync();
        await using var randomUser = await FakeRandomUserApi.StartAsync();
        var failure = mode switch
        {
            "HTTP 500" => FakeAnswer.Status(500),
            "HTTP 503" => FakeAnswer.Status(503),
            "timeout" => FakeAnswer.Hang(TimeSpan.FromSeconds(5)),
            "error field" => FakeAnswer.ErrorBody,
            "truncated JSON" => FakeAnswer.Truncated,
            "empty results" => FakeAnswer.EmptyResults,
            _ => throw new ArgumentOutOfRangeException(nameof(mode)),
        };
        randomUser.Enqueue(Enumerable.Repeat(failure, Attempts).ToArray());
        var settings = IngestTestHost.Settings(broker, ledger, topic, randomUser);
        settings["Ingest:Schedule:Paused"] = "false";
        await using var stage = await StageHost.StartIngestAsync(settings, cancellationToken: Ct);

        // The first scheduled run meets the failing API; the one after it meets a working API.
        var runs = await stage.Api.WaitForHistoryAsync(h => h.Any(r => r.Status == "succeeded"), cancellationToken: Ct);
        await stage.Host.StopAsync(TestContext.Current.CancellationToken);

        var ordered = runs.OrderBy(r => r.StartedAt).ToList();
        var failed = ordered[0];
        Assert.Equal(("schedule", "failed", 0, 0, Attempts), (failed.Trigger, failed.Status, failed.Fetched, failed.Produced, failed.FetchAttempts));
        Assert.Contains($"fetch of page 1 failed: {reason}:", failed.Error, StringComparison.Ordinal);
        Assert.Contains($"after {Attempts} attempts", failed.Error, StringComparison.Ordinal);
        Assert.Equal(Attempts, randomUser.Requests.Count(r => r.Seed == failed.Seed));
        Assert.NotNull(failed.EndedAt);

        var succeeded = ordered[1];
        Assert.Equal(("schedule", "succeeded", 5, 5), (succeeded.Trigger, succeeded.Status, succeeded.Fetched, succeeded.Produced));
        var records = KafkaTopicReader.ReadAll(broker.BootstrapServers, topic, 5, TimeSpan.FromSeconds(15));
        Assert.Equal(5, records.Count);
    }

    [Fact]
    public async Task A_page_failing_after_earlier_pages_were_delivered_ends_the_run_partial_with_those_users_delivered()
    {
        await using var scenario = await IngestTestHost.ScenarioAsync(broker, database, FakeAnswer.Users, FakeAnswer.Status(502), FakeAnswer.Status(502), FakeAnswer.Status(502));
        var topic = scenario.Topic;
        var settings = scenario.Settings;
        settings["Ingest:PageSize"] = "5";
        await using var stage = await StageHost.StartIngestAsync(settings, cancellationToken: Ct);

        var done = await stage.Api.WaitForRunAsync((await stage.Api.TriggerAsync(12, cancellationToken: Ct)).Id, cancellationToken: Ct);

        Assert.Equal(("partial", 12, 5, 5, 0, 1 + Attempts), (done.Status, done.Requested, done.Fetched, done.Produced, done.Failed, done.FetchAttempts));
        Assert.Contains("fetch of page 2 failed: http_status: the API answered HTTP 502", done.Error, StringComparison.Ordinal);
        Assert.Equal(5, KafkaTopicReader.ReadAll(broker.BootstrapServers, topic, 5, TimeSpan.FromSeconds(15)).Count);
    }

    [Fact]
    public async Task A_run_that_outlasts_its_run_timeout_stops_fetching_and_is_recorded_with_that_reason()
    {
        await using var scenario = await IngestTestHost.ScenarioAsync(broker, database, FakeAnswer.Users, FakeAnswer.SlowUsers(TimeSpan.FromSeconds(10)));
        var settings = scenario.Settings;
        settings["Ingest:PageSize"] = "5";
        settings["Ingest:RunTimeout"] = "00:00:01";
        settings["Ingest:RandomUser:AttemptTimeout"] = "00:00:30";
        await using var stage = await StageHost.StartIngestAsync(settings, cancellationToken: Ct);

        var done = await stage.Api.WaitForRunAsync((await stage.Api.TriggerAsync(10, cancellationToken: Ct)).Id, cancellationToken: Ct);

        Assert.Equal(("partial", 5, 5), (done.Status, done.Fetched, done.Produced));
        Assert.Equal("run timed out after 00:00:01", done.Error);
    }

    [Fact]
    public async Task A_client_error_from_the_API_is_not_retried()
    {
        await using var scenario = await IngestTestHost.ScenarioAsync(broker, database, FakeAnswer.Status(400));
        var randomUser = scenario.Api;
        await using var stage = await StageHost.StartIngestAsync(scenario.Settings, cancellationToken: Ct);

        var done = await stage.Api.WaitForRunAsync((await stage.Api.TriggerAsync(5, cancellationToken: Ct)).Id, cancellationToken: Ct);

        Assert.Equal(("failed", 1), (done.Status, done.FetchAttempts));
        Assert.Contains("HTTP 400", done.Error, StringComparison.Ordinal);
        Assert.Single(randomUser.Requests);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_response_body_over_the_cap_is_cut_off_not_retried_and_fails_the_page_with_the_reason(bool declared)
    {
        const long Oversized = 512L * 1024 * 1024; // would take the client half a gigabyte if buffered
        const int Cap = 1024 * 1024;
        await using var scenario = await IngestTestHost.ScenarioAsync(broker, database, FakeAnswer.Oversized(Oversized, declared));
        var randomUser = scenario.Api;
        var settings = scenario.Settings;
        settings["Ingest:RandomUser:MaxResponseBytes"] = Cap.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["Ingest:RandomUser:AttemptTimeout"] = "00:00:30";
        var read = new BodyBytesRead();
        await using var stage = await StageHost.StartIngestAsync(
            settings,
            builder => builder.Services.AddHttpClient(IngestStageExtensions.RandomUserHttpClientName).AddHttpMessageHandler(() => new CountingHandler(read)), cancellationToken: Ct);

        var done = await stage.Api.WaitForRunAsync((await stage.Api.TriggerAsync(5, cancellationToken: Ct)).Id, cancellationToken: Ct);

        Assert.Equal(("failed", 1, 0), (done.Status, done.FetchAttempts, done.Produced));
        Assert.Contains("response_too_large", done.Error, StringComparison.Ordinal);
        Assert.Contains("Ingest:RandomUser:MaxResponseBytes", done.Error, StringComparison.Ordinal);
        Assert.Single(randomUser.Requests);
        // What the client took from the body: at most the cap and one more read (nothing when the length was declared).
        Assert.True(read.Bytes <= Cap + 128 * 1024, $"the client read {read.Bytes:N0} bytes of the body");
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"declared={declared}: the client read {read.Bytes:N0} of {Oversized:N0} bytes before it stopped (cap {Cap:N0})");
    }

    private sealed class BodyBytesRead
    {
        private long _bytes;

        public long Bytes => Interlocked.Read(ref _bytes);

        public void Add(int count) => Interlocked.Add(ref _bytes, count);
    }

    /// <summary>Counts the bytes the client reads from each response body (between the stage's client and the network).</summary>
    private sealed class CountingHandler(BodyBytesRead read) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            var inner = response.Content;
            var counted = new StreamContent(new CountingStream(await inner.ReadAsStreamAsync(cancellationToken), read));
            foreach (var header in inner.Headers)
            {
                counted.Headers.TryAddWithoutValidation(header.Key, header.Value);
            }

            response.Content = counted;
            return response;
        }
    }

    private sealed class CountingStream(Stream inner, BodyBytesRead read) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var count = await inner.ReadAsync(buffer, cancellationToken);
            read.Add(count);
            return count;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = inner.Read(buffer, offset, count);
            read.Add(n);
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
