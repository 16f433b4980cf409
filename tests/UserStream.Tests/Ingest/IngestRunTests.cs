using System.Diagnostics.Metrics;
using UserStream.Ingest.Sources;
using UserStream.Ingest.Sources.Generator;
using UserStream.Ingest.Telemetry;
using UserStream.Tests.Ingest.Support;

namespace UserStream.Tests.Ingest;

/// <summary>A run lands exactly what it fetched on users_created, keyed by login.uuid, and records it in the ledger.</summary>
public sealed class IngestRunTests(KafkaBroker broker, PostgresDatabase database) : IClassFixture<KafkaBroker>, IClassFixture<PostgresDatabase>
{
    [Fact]
    public async Task A_run_of_N_users_fetched_in_pages_lands_exactly_N_untouched_records_keyed_by_uuid_and_one_matching_ledger_row()
    {
        await using var scenario = await IngestTestHost.ScenarioAsync(broker, database);
        var (topic, ledger, randomUser, settings) = scenario;
        settings["Ingest:PageSize"] = "10";
        settings["Ingest:RandomUser:Nationalities"] = "us,fr,ua";
        settings["Ingest:RandomUser:Exclude"] = "picture";
        await using var stage = await StageHost.StartIngestAsync(settings, cancellationToken: Ct);
        var api = stage.Api;

        var run = await api.TriggerAsync(25, cancellationToken: Ct);
        var done = await api.WaitForRunAsync(run.Id, cancellationToken: Ct);

        Assert.Equal(("succeeded", 25, 25, 25, 0, null), (done.Status, done.Requested, done.Fetched, done.Produced, done.Failed, done.Error));
        Assert.Equal([(10, 1), (10, 2), (5, 3)], randomUser.Requests.Select(r => (r.Results, r.Page)));
        Assert.All(randomUser.Requests, r =>
        {
            Assert.Equal("/api/1.4/", r.Path);
            Assert.Equal(done.Seed, r.Seed);
            Assert.Contains("nat=us%2Cfr%2Cua", r.Query, StringComparison.Ordinal);
            Assert.Contains("exc=picture", r.Query, StringComparison.Ordinal);
        });

        var records = KafkaTopicReader.ReadAll(broker.BootstrapServers, topic, 25, TimeSpan.FromSeconds(15));
        Assert.Equal(randomUser.ServedKeys.Order(), records.Select(r => r.Message.Key).Order());
        Assert.Equal(25, records.Select(r => r.Message.Key).Distinct().Count());

        // The values are the bytes the API sent, untouched.
        var generator = UserGenerator.Create();
        var sent = Enumerable.Range(1, 3)
            .SelectMany(page => generator.Generate(new PageRequest(done.Seed, page, page == 3 ? 5 : 10)))
            .ToDictionary(u => u.Key!, u => u.Json);
        Assert.All(records, r => Assert.Equal(sent[r.Message.Key], r.Message.Value));
        Assert.All(records, r =>
        {
            Assert.Equal(done.Id.ToString(), r.Message.Headers.GetString(PipelineHeaders.RunId));
            Assert.Equal("randomuser", r.Message.Headers.GetString(PipelineHeaders.Source));
            Assert.NotNull(r.Message.Headers.GetTimestamp(PipelineHeaders.IngestedAt));
        });

        var row = Assert.Single(await LedgerRows.ReadAsync(ledger));
        Assert.Equal((done.Id, "manual", "succeeded", 25, 25, 25, 0, 3), (row.Id, row.Trigger, row.Status, row.Requested, row.Fetched, row.Produced, row.Failed, row.FetchAttempts));
        Assert.NotNull(row.EndedAt);
    }

    [Fact]
    public async Task A_generator_run_lands_N_records_of_several_nationalities_with_one_trace_per_run()
    {
        var topic = broker.NewTopic("users-created", partitions: 3);
        var ledger = await database.NewSchemaAsync();
        var settings = IngestTestHost.Settings(broker, ledger, topic);
        settings["Ingest:PageSize"] = "20";
        var spans = new List<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == "UserStream.Ingest",
            Sample = (ref ActivityCreationOptions<ActivityContext> options) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a =>
            {
                lock (spans)
                {
                    spans.Add(a);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        await using var stage = await StageHost.StartIngestAsync(settings, cancellationToken: Ct);
        var api = stage.Api;
        var measured = new ConcurrentDictionary<string, double>();
        var meter = stage.Host.Services.GetRequiredService<StageTelemetry>().Meter;
        using var meters = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter == meter)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        meters.SetMeasurementEventCallback<long>((instrument, value, _, _) => measured.AddOrUpdate(instrument.Name, value, (_, sum) => sum + value));
        meters.SetMeasurementEventCallback<double>((instrument, _, _, _) => measured.AddOrUpdate(instrument.Name, 1, (_, count) => count + 1));
        meters.Start();

        var done = await api.WaitForRunAsync((await api.TriggerAsync(50, cancellationToken: Ct)).Id, cancellationToken: Ct);

        Assert.Equal(("succeeded", "generator", 50, 50, 0), (done.Status, done.Source, done.Fetched, done.Produced, done.Failed));
        var records = KafkaTopicReader.ReadAll(broker.BootstrapServers, topic, 50, TimeSpan.FromSeconds(15));
        Assert.Equal(50, records.Select(r => r.Message.Key).Distinct().Count());
        Assert.All(records, r => Assert.True(Guid.TryParse(r.Message.Key, out _)));
        Assert.All(records, r => Assert.Equal("generator", r.Message.Headers.GetString(PipelineHeaders.Source)));
        var nationalities = records.Select(r => System.Text.Json.JsonDocument.Parse(r.Message.Value).RootElement.GetProperty("nat").GetString()).Distinct().Count();
        Assert.True(nationalities >= 5, $"only {nationalities} nationalities in 50 users");

        // One trace per run: a root span, a fetch span per page and a send span per record, all in the run's
        // trace, and every record carries that trace in its traceparent header.
        Assert.NotNull(done.TraceId);
        List<Activity> traced;
        lock (spans)
        {
            traced = [.. spans.Where(s => s.TraceId.ToHexString() == done.TraceId)];
        }

        var root = Assert.Single(traced, s => s.OperationName == "ingest run");
        Assert.Equal(default, root.ParentSpanId);
        Assert.Equal(3, traced.Count(s => s.OperationName == "fetch generator" && s.ParentSpanId == root.SpanId));
        Assert.Equal(50, traced.Count(s => s.OperationName == $"send {topic}" && s.ParentSpanId == root.SpanId));
        Assert.All(records, r => Assert.Contains(done.TraceId!, r.Message.Headers.GetString(PipelineHeaders.TraceParent), StringComparison.Ordinal));

        // Metrics on the stage's meter: users fetched and produced, fetch attempts, one run duration.
        Assert.Equal(50, measured.GetValueOrDefault(IngestMetrics.UsersFetchedName));
        Assert.Equal(50, measured.GetValueOrDefault(IngestMetrics.UsersProducedName));
        Assert.Equal(3, measured.GetValueOrDefault(IngestMetrics.FetchAttemptsName));
        Assert.Equal(1, measured.GetValueOrDefault(IngestMetrics.RunDurationName));
        Assert.False(measured.ContainsKey(IngestMetrics.DeliveryFailuresName));
    }

    [Fact]
    public async Task Users_without_a_login_uuid_are_produced_without_a_key_and_counted_never_dropped()
    {
        await using var scenario = await IngestTestHost.ScenarioAsync(broker, database, FakeAnswer.UsersWithoutUuid(2));
        var topic = scenario.Topic;
        await using var stage = await StageHost.StartIngestAsync(scenario.Settings, cancellationToken: Ct);
        var api = stage.Api;

        var done = await api.WaitForRunAsync((await api.TriggerAsync(6, cancellationToken: Ct)).Id, cancellationToken: Ct);

        Assert.Equal(("succeeded", 6, 6, 2), (done.Status, done.Fetched, done.Produced, done.WithoutKey));
        var records = KafkaTopicReader.ReadAll(broker.BootstrapServers, topic, 6, TimeSpan.FromSeconds(15));
        Assert.Equal(6, records.Count);
        Assert.Equal(2, records.Count(r => r.Message.Key is null));
        Assert.All(records.Where(r => r.Message.Key is null), r => Assert.DoesNotContain("\"uuid\"", Encoding.UTF8.GetString(r.Message.Value), StringComparison.Ordinal));
    }
}
