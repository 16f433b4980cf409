using Confluent.Kafka;
using Npgsql;
using UserStream.Contracts;
using UserStream.Ingest.Endpoints;
using UserStream.Sink.Store.Postgres;
using UserStream.Streaming.Kafka;

namespace UserStream.Testing;

/// <summary>
/// One whole pipeline under test or under measurement: its own mock cluster (3 brokers) with the product's
/// topics, its own PostgreSQL database (the pipeline database: ingest ledger and <c>created_users</c>), and the
/// three stages, each hosted on its own (<see cref="StageHost"/> in this process, or <see cref="StageProcess"/>
/// when it must be killed or measured alone) through the same <c>Add…Stage()</c> calls and configuration keys as
/// its service. Everything not set here keeps the services' defaults: topic names, consumer groups, table.
/// Test settings (unless <c>serviceDefaults</c>, as the benchmarks ask): short batch waits, and the short group
/// sessions of <see cref="TestKafka.StageSettings"/>. Start one stage at a time, or all three with
/// <see cref="StartAllAsync"/>; the run helpers drive the started ingest stage's API.
/// </summary>
public sealed class PipelineRig : IAsyncDisposable
{
    public const int DefaultPartitions = 3;

    /// <summary>How long the records of a run may take through the pipeline.</summary>
    public static readonly TimeSpan StreamTimeout = IngestApiClient.RunTimeout;

    private readonly List<Func<ValueTask>> _stops = [];
    private readonly bool _serviceDefaults;
    private IngestStage? _ingest;

    private PipelineRig(MockKafkaCluster broker, PostgresTestDatabase database, bool serviceDefaults)
    {
        Broker = broker;
        Database = database;
        _serviceDefaults = serviceDefaults;
    }

    public MockKafkaCluster Broker { get; }

    public PostgresTestDatabase Database { get; }

    public string BootstrapServers => Broker.BootstrapServers;

    /// <summary>The ingest stage started last (<see cref="StartIngestAsync"/>), whose API the run helpers use.</summary>
    public IngestStage Ingest => _ingest ?? throw new InvalidOperationException("No ingest stage was started.");

    /// <summary>A new broker with the pipeline's topics (<paramref name="partitions"/> each) and a new database.</summary>
    public static async Task<PipelineRig> CreateAsync(int partitions = DefaultPartitions, bool serviceDefaults = false)
    {
        var broker = await MockKafkaCluster.StartAsync();
        PostgresTestDatabase database;
        try
        {
            database = await PostgresTestDatabase.CreateAsync();
        }
        catch
        {
            await broker.DisposeAsync();
            throw;
        }

        broker.CreatePipelineTopics(partitions, deadLetterPartitions: partitions);
        return new PipelineRig(broker, database, serviceDefaults);
    }

    // ---- configuration, as the services get it ----

    /// <summary>The ingestor's settings: the offline generator, runs on demand only.</summary>
    public Dictionary<string, string?> IngestSettings() => StageSettings(
        new()
        {
            ["ConnectionStrings:pipeline-db"] = Database.ConnectionString,
            ["Ingest:Source"] = "Generator",
            ["Ingest:Schedule:Paused"] = "true",
        },
        new()
        {
            ["Ingest:PageSize"] = "250",
            ["Ingest:DeliveryTimeout"] = "00:01:00",
            ["Ingest:DrainTimeout"] = "00:00:05",
        });

    /// <summary>The processor's settings; <c>Process:InstanceId</c> is kept across restarts, as a replica's name is.</summary>
    public Dictionary<string, string?> ProcessSettings() => StageSettings(
        new() { ["Process:InstanceId"] = "processor-0" },
        new()
        {
            ["Process:Batch:MaxCount"] = "200",
            ["Process:Batch:MaxWait"] = "00:00:00.050",
            ["Process:OperationTimeout"] = "00:00:15",
        });

    /// <summary>The sink's settings: the PostgreSQL store (the default) in the pipeline database.</summary>
    public Dictionary<string, string?> SinkSettings() => StageSettings(
        new() { ["ConnectionStrings:pipeline-db"] = Database.ConnectionString },
        new()
        {
            ["Sink:Batch:MaxCount"] = "250",
            ["Sink:Batch:MaxWait"] = "00:00:00.050",
            ["Sink:Retry:InitialDelay"] = "00:00:00.050",
            ["Sink:Retry:MaxDelay"] = "00:00:00.400",
        });

    /// <summary><paramref name="settings"/> with <paramref name="more"/> set over them (a copy).</summary>
    public static Dictionary<string, string?> With(IReadOnlyDictionary<string, string?> settings, IReadOnlyDictionary<string, string?>? more)
    {
        var merged = new Dictionary<string, string?>(settings);
        foreach (var (key, value) in more ?? new Dictionary<string, string?>())
        {
            merged[key] = value;
        }

        return merged;
    }

    private Dictionary<string, string?> Kafka() => TestKafka.StageSettings(BootstrapServers, serviceDefaults: _serviceDefaults);

    /// <summary>
    /// A stage's settings: its Kafka settings, what it needs in any case (<paramref name="required"/>) and, unless the
    /// rig keeps the services' defaults, the tests' smaller batches and shorter waits (<paramref name="forTests"/>).
    /// </summary>
    private Dictionary<string, string?> StageSettings(Dictionary<string, string?> required, Dictionary<string, string?> forTests) =>
        With(With(Kafka(), required), _serviceDefaults ? null : forTests);

    // ---- the stages ----

    /// <summary>
    /// The three stages in this process, in flow order, each with its settings and <paramref name="more"/> (set
    /// over every stage's); the ingest API on a loopback port when <paramref name="loopback"/>. Returns the ingest stage.
    /// </summary>
    public async Task<IngestStage> StartAllAsync(
        IReadOnlyDictionary<string, string?>? more = null, bool loopback = false, CancellationToken cancellationToken = default)
    {
        var ingest = await StartIngestAsync(With(IngestSettings(), more), loopback, cancellationToken);
        await StartProcessorAsync(With(ProcessSettings(), more), cancellationToken);
        await StartSinkAsync(With(SinkSettings(), more), cancellationToken);
        return ingest;
    }

    /// <summary>The ingest stage in this process, ready (ledger prepared), with a client of its HTTP API.</summary>
    public async Task<IngestStage> StartIngestAsync(
        IReadOnlyDictionary<string, string?>? settings = null, bool loopback = false, CancellationToken cancellationToken = default)
    {
        var stage = await StageHost.StartIngestAsync(settings ?? IngestSettings(), loopback: loopback, cancellationToken: cancellationToken);
        _stops.Add(stage.DisposeAsync);
        _ingest = stage;
        return stage;
    }

    public async Task<StageHost> StartProcessorAsync(IReadOnlyDictionary<string, string?>? settings = null, CancellationToken cancellationToken = default) =>
        Track(await StageHost.StartProcessorAsync(settings ?? ProcessSettings(), cancellationToken: cancellationToken));

    public async Task<StageHost> StartSinkAsync(IReadOnlyDictionary<string, string?>? settings = null, CancellationToken cancellationToken = default) =>
        Track(await StageHost.StartSinkAsync(settings ?? SinkSettings(), cancellationToken: cancellationToken));

    /// <summary>The processor in a child process (so that it can be killed outright); <paramref name="settings"/> default to <see cref="ProcessSettings"/>.</summary>
    public StageProcess StartProcessorProcess(IReadOnlyDictionary<string, string?>? settings = null) =>
        StartProcess("process", settings ?? ProcessSettings());

    /// <summary>The sink in a child process (so that it can be killed outright); <paramref name="settings"/> default to <see cref="SinkSettings"/>.</summary>
    public StageProcess StartSinkProcess(IReadOnlyDictionary<string, string?>? settings = null) =>
        StartProcess("sink", settings ?? SinkSettings());

    /// <summary><paramref name="stage"/> (ingest, process, sink) in a child process, stopped with the rig.</summary>
    public StageProcess StartProcess(string stage, IReadOnlyDictionary<string, string?> settings)
    {
        var process = StageProcess.Start(stage, settings);
        _stops.Add(process.DisposeAsync);
        return process;
    }

    private StageHost Track(StageHost host)
    {
        _stops.Add(host.DisposeAsync);
        return host;
    }

    // ---- runs, through the ingest API ----

    /// <summary>Starts a run of <paramref name="size"/> users (asked again while the API answers 409 or 503).</summary>
    public Task<RunView> StartRunAsync(int size, CancellationToken cancellationToken = default) =>
        Ingest.Api.StartRunAsync(size, cancellationToken: cancellationToken);

    /// <summary>Waits until run <paramref name="id"/> has ended (within <see cref="StreamTimeout"/>).</summary>
    public Task<RunView> WaitForRunAsync(Guid id, CancellationToken cancellationToken = default) =>
        Ingest.Api.WaitForRunAsync(id, StreamTimeout, cancellationToken);

    /// <summary>Starts a run of <paramref name="size"/> users and waits until it ended.</summary>
    public Task<RunView> RunAsync(int size, CancellationToken cancellationToken = default) => Ingest.Api.RunAsync(size, cancellationToken);

    // ---- what the pipeline did ----

    /// <summary>Every record of <paramref name="topic"/> (read-committed), once <paramref name="expected"/> arrived and a quiet second passed.</summary>
    public List<ConsumeResult<string, byte[]>> Read(string topic, int expected, TimeSpan? quiet = null) =>
        KafkaTopicReader.ReadAll(BootstrapServers, topic, expected, StreamTimeout, quiet ?? TimeSpan.FromSeconds(1));

    /// <summary>Every record of <paramref name="topic"/> up to its end now (read-committed unless told).</summary>
    public List<ConsumeResult<string, byte[]>> ReadToEnd(string topic, IsolationLevel isolation = IsolationLevel.ReadCommitted) =>
        KafkaTopicReader.ReadToEnd(BootstrapServers, topic, isolation);

    /// <summary>The ids of the users <paramref name="runs"/> produced to users_created (<paramref name="records"/> records in the topic in all).</summary>
    public List<Guid> ProducedIds(int records, params RunView[] runs)
    {
        var runIds = runs.Select(r => r.Id.ToString()).ToHashSet();
        return [.. Read(Topics.UsersCreated, records)
            .Where(r => r.Message.Headers.GetString(PipelineHeaders.RunId) is { } run && runIds.Contains(run))
            .Select(r => Guid.Parse(r.Message.Key))];
    }

    /// <summary>The error codes of the dead letters of <paramref name="runs"/>, up to the topic's end now.</summary>
    public List<string> DeadLetterCodes(IEnumerable<RunView> runs)
    {
        var ids = runs.Select(r => r.Id.ToString()).ToHashSet();
        return [.. ReadToEnd(Topics.DeadLetter)
            .Where(d => d.Message.Headers.GetString(PipelineHeaders.RunId) is { } run && ids.Contains(run))
            .Select(d => d.Message.Headers.GetString(DeadLetterHeaders.ErrorCode) ?? "?")];
    }

    /// <summary>Rows in <c>created_users</c> (0 before the sink created the table).</summary>
    public async Task<long> RowCountAsync(CancellationToken cancellationToken = default)
    {
        await using var source = Database.CreateDataSource();
        return await RowCountAsync(source, cancellationToken);
    }

    /// <summary>Rows in <c>created_users</c> of the database <paramref name="source"/> (0 before the sink created the table).</summary>
    public static async Task<long> RowCountAsync(NpgsqlDataSource source, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        await using var command = source.CreateCommand("SELECT count(*) FROM created_users");
        try
        {
            return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            return 0;
        }
    }

    /// <summary>Waits until <c>created_users</c> holds at least <paramref name="expected"/> rows, then for a quiet moment; returns the count.</summary>
    public async Task<long> WaitForRowsAsync(long expected, CancellationToken cancellationToken = default)
    {
        await Eventually.Async(RowCountAsync, n => n >= expected, StreamTimeout, cancellationToken: cancellationToken);
        await Task.Delay(500, cancellationToken);
        return await RowCountAsync(cancellationToken);
    }

    /// <summary>Every row of <c>created_users</c>, read through the sink's store.</summary>
    public async Task<IReadOnlyList<EnrichedUser>> StoredUsersAsync(CancellationToken cancellationToken = default)
    {
        await using var source = Database.CreateDataSource();
        return await new PostgresUserStore(source).ListRecentAsync(int.MaxValue, cancellationToken);
    }

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
