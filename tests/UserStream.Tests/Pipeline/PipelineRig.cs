using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using Confluent.Kafka;
using Npgsql;
using UserStream.Contracts;
using UserStream.Ingest;
using UserStream.Process;
using UserStream.Sink;
using UserStream.Sink.Store.Postgres;
using UserStream.Streaming.Kafka;
using UserStream.Testing;
using UserStream.Tests.Infrastructure;
using UserStream.Tests.Ingest.Support;

namespace UserStream.Tests.Pipeline;

/// <summary>
/// One whole pipeline under test: its own mock cluster (3 brokers) with the product's topics, its own
/// PostgreSQL database (the pipeline database: ingest ledger and <c>created_users</c>), and the three
/// stages, each hosted on its own (<see cref="StageHost"/> in-process, or <see cref="StageProcess"/> when a
/// test must kill it) through the same <c>Add…Stage()</c> calls and configuration keys as its service.
/// Everything not set here keeps the services' defaults: topic names, consumer groups, table.
/// Test settings: short batch waits, and short group sessions (the broker holds a group for the session
/// timeout after a member died).
/// </summary>
internal sealed class PipelineRig : IAsyncDisposable
{
    public const int Partitions = 3;
    public static readonly TimeSpan StreamTimeout = TimeSpan.FromSeconds(60);

    private readonly List<Func<ValueTask>> _stops = [];

    private PipelineRig(KafkaBroker broker, PostgresDatabase database)
    {
        Broker = broker;
        Database = database;
    }

    public KafkaBroker Broker { get; }

    public PostgresDatabase Database { get; }

    public string BootstrapServers => Broker.BootstrapServers;

    public static async Task<PipelineRig> CreateAsync()
    {
        var broker = new KafkaBroker();
        await broker.InitializeAsync();
        var database = new PostgresDatabase();
        try
        {
            await database.InitializeAsync();
        }
        catch
        {
            await broker.DisposeAsync();
            throw;
        }

        broker.CreatePipelineTopics(Partitions, deadLetterPartitions: Partitions);
        return new PipelineRig(broker, database);
    }

    // ---- configuration, as the services get it ----

    /// <summary>The ingestor's settings: the offline generator, runs on demand only.</summary>
    public Dictionary<string, string?> IngestSettings() => With(Kafka(), new()
    {
        ["ConnectionStrings:pipeline-db"] = Database.ConnectionString,
        ["Ingest:Source"] = "Generator",
        ["Ingest:PageSize"] = "250",
        ["Ingest:Schedule:Paused"] = "true",
        ["Ingest:DeliveryTimeout"] = "00:01:00",
        ["Ingest:DrainTimeout"] = "00:00:05",
    });

    /// <summary>The processor's settings; <c>Process:InstanceId</c> is kept across restarts, as a replica's name is.</summary>
    public Dictionary<string, string?> ProcessSettings() => With(Kafka(), new()
    {
        ["Process:InstanceId"] = "processor-0",
        ["Process:Batch:MaxCount"] = "200",
        ["Process:Batch:MaxWait"] = "00:00:00.050",
        ["Process:OperationTimeout"] = "00:00:15",
    });

    /// <summary>The sink's settings: the PostgreSQL store (the default) in the pipeline database.</summary>
    public Dictionary<string, string?> SinkSettings() => With(Kafka(), new()
    {
        ["ConnectionStrings:pipeline-db"] = Database.ConnectionString,
        ["Sink:Batch:MaxCount"] = "250",
        ["Sink:Batch:MaxWait"] = "00:00:00.050",
        ["Sink:Retry:InitialDelay"] = "00:00:00.050",
        ["Sink:Retry:MaxDelay"] = "00:00:00.400",
    });

    private Dictionary<string, string?> Kafka() => new()
    {
        ["Kafka:BootstrapServers"] = BootstrapServers,
        ["Kafka:Settings:session.timeout.ms"] = "3000",
        ["Kafka:Settings:heartbeat.interval.ms"] = "500",
        ["Kafka:Settings:topic.metadata.refresh.interval.ms"] = "1000",
        ["Kafka:Settings:log_level"] = "3",
    };

    private static Dictionary<string, string?> With(Dictionary<string, string?> settings, Dictionary<string, string?> more)
    {
        foreach (var (key, value) in more)
        {
            settings[key] = value;
        }

        return settings;
    }

    // ---- the stages ----

    /// <summary>The ingest stage in-process, ready (ledger prepared), with a client of its HTTP API.</summary>
    public async Task<IngestStage> StartIngestAsync(IReadOnlyDictionary<string, string?>? settings = null)
    {
        var stage = await IngestTestHost.StartAsync(settings ?? IngestSettings());
        _stops.Add(stage.DisposeAsync);
        return stage;
    }

    public async Task<StageHost> StartProcessorAsync(IReadOnlyDictionary<string, string?>? settings = null)
    {
        var host = await StageHost.StartAsync(settings ?? ProcessSettings(), b => b.AddProcessStage(), app => app.MapProcessEndpoints(), Ct);
        _stops.Add(host.DisposeAsync);
        return host;
    }

    public async Task<StageHost> StartSinkAsync(IReadOnlyDictionary<string, string?>? settings = null)
    {
        var host = await StageHost.StartAsync(settings ?? SinkSettings(), b => b.AddSinkStage(), app => app.MapSinkEndpoints(), Ct);
        _stops.Add(host.DisposeAsync);
        return host;
    }

    /// <summary>The processor in a child process (so that it can be killed outright); <paramref name="settings"/> default to <see cref="ProcessSettings"/>.</summary>
    public StageProcess StartProcessorProcess(IReadOnlyDictionary<string, string?>? settings = null) =>
        Track(StageProcess.Start("process", settings ?? ProcessSettings()));

    /// <summary>The sink in a child process (so that it can be killed outright).</summary>
    public StageProcess StartSinkProcess() => Track(StageProcess.Start("sink", SinkSettings()));

    private StageProcess Track(StageProcess process)
    {
        _stops.Add(process.DisposeAsync);
        return process;
    }

    // ---- the ingest API, as a client that honours its answers uses it ----

    /// <summary>
    /// POST /runs {size}; repeated while the answer is 409 (the previous run, already ended in the ledger, is
    /// still being released) or 503 (the ledger is unreachable), as the API's answers invite.
    /// </summary>
    public static async Task<RunDto> TriggerAsync(IngestStage ingest, int size)
    {
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (true)
        {
            using var response = await ingest.Api.PostRunsAsync(new { size });
            if (response.StatusCode == HttpStatusCode.Accepted)
            {
                return (await response.Content.ReadFromJsonAsync<RunDto>(IngestApiClient.Json, Ct))!;
            }

            Assert.True(
                response.StatusCode is HttpStatusCode.Conflict or HttpStatusCode.ServiceUnavailable && DateTime.UtcNow < until,
                $"POST /runs answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(Ct)}");
            await Task.Delay(50, Ct);
        }
    }

    /// <summary>GET /runs/{id} until the run has ended; a 503 (ledger unreachable, e.g. just after a database outage) is asked again.</summary>
    public static async Task<RunDto> WaitForRunAsync(IngestStage ingest, Guid id)
    {
        var until = DateTime.UtcNow + StreamTimeout;
        while (true)
        {
            using var response = await ingest.Api.Http.GetAsync(new Uri($"/runs/{id}", UriKind.Relative), Ct);
            if (response.StatusCode == HttpStatusCode.OK
                && await response.Content.ReadFromJsonAsync<RunDto>(IngestApiClient.Json, Ct) is { Status: not "running" } run)
            {
                return run;
            }

            Assert.True(
                response.StatusCode is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable,
                $"GET /runs/{id} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(Ct)}");
            Assert.True(DateTime.UtcNow < until, $"run {id} did not end within {StreamTimeout}");
            await Task.Delay(50, Ct);
        }
    }

    /// <summary>Triggers a run of <paramref name="size"/> users and waits until it ended.</summary>
    public static async Task<RunDto> RunAsync(IngestStage ingest, int size) =>
        await WaitForRunAsync(ingest, (await TriggerAsync(ingest, size)).Id);

    // ---- what the pipeline did ----

    /// <summary>Every record of <paramref name="topic"/> (read-committed), once <paramref name="expected"/> arrived and a quiet second passed.</summary>
    public List<ConsumeResult<string, byte[]>> Read(string topic, int expected, TimeSpan? quiet = null) =>
        KafkaTopicReader.ReadAll(BootstrapServers, topic, expected, StreamTimeout, quiet ?? TimeSpan.FromSeconds(1));

    /// <summary>Every record of <paramref name="topic"/> up to its end now (read-committed unless told).</summary>
    public List<ConsumeResult<string, byte[]>> ReadToEnd(string topic, IsolationLevel isolation = IsolationLevel.ReadCommitted) =>
        KafkaTopicReader.ReadToEnd(BootstrapServers, topic, isolation);

    /// <summary>The ids of the users <paramref name="runs"/> produced to users_created (<paramref name="records"/> records in the topic in all).</summary>
    public List<Guid> ProducedIds(int records, params RunDto[] runs)
    {
        var runIds = runs.Select(r => r.Id.ToString()).ToHashSet();
        return [.. Read(Topics.UsersCreated, records)
            .Where(r => r.Message.Headers.GetString(PipelineHeaders.RunId) is { } run && runIds.Contains(run))
            .Select(r => Guid.Parse(r.Message.Key))];
    }

    /// <summary>Rows in <c>created_users</c> (0 before the sink created the table).</summary>
    public async Task<long> RowCountAsync()
    {
        await using var source = Database.CreateDataSource();
        await using var command = source.CreateCommand("SELECT count(*) FROM created_users");
        try
        {
            return (long)(await command.ExecuteScalarAsync(Ct))!;
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            return 0;
        }
    }

    /// <summary>Waits until <c>created_users</c> holds at least <paramref name="expected"/> rows, then for a quiet moment; returns the count.</summary>
    public async Task<long> WaitForRowsAsync(long expected)
    {
        await Eventually.Async(RowCountAsync, n => n >= expected, StreamTimeout);
        await Task.Delay(500, Ct);
        return await RowCountAsync();
    }

    /// <summary>Every row of <c>created_users</c>, read through the sink's store.</summary>
    public async Task<IReadOnlyList<EnrichedUser>> StoredUsersAsync()
    {
        await using var source = Database.CreateDataSource();
        return await new PostgresUserStore(source).ListRecentAsync(int.MaxValue, Ct);
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask DisposeAsync()
    {
        try
        {
            for (var i = _stops.Count - 1; i >= 0; i--)
            {
                await _stops[i]();
            }
        }
        finally
        {
            await Broker.DisposeAsync();
            await Database.DisposeAsync();
        }
    }
}

/// <summary>Reading a users_enriched record.</summary>
internal static class EnrichedRecords
{
    public static EnrichedUser User(this ConsumeResult<string, byte[]> record) => EnrichedUserJson.Deserialize(record.Message.Value);

    public static string Describe(this IReadOnlyCollection<Guid> ids) =>
        $"{ids.Count} ({string.Join(", ", ids.Take(5).Select(i => i.ToString("D", CultureInfo.InvariantCulture)))}{(ids.Count > 5 ? ", …" : "")})";
}
