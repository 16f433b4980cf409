using System.Diagnostics;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace UserStream.AppHost.Tests.Infrastructure;

/// <summary>
/// The real AppHost without a container engine: <c>Pipeline:UseExistingInfrastructure=true</c> against
/// librdkafka's mock cluster in the test process (topics created up front, as on a managed Kafka) and a
/// throw-away database on the test PostgreSQL server; the ingestor on its offline generator with the schedule
/// paused, the sink on the PostgreSQL store, 2 processor and 2 sink replicas, all run by DCP, their spans
/// exported to an <see cref="OtlpReceiver"/>. Started once for a test class.
/// </summary>
public sealed class ExistingInfrastructureApp : IAsyncLifetime
{
    public const int TopicPartitions = 6;
    public const int Replicas = 2;

    private static readonly TimeSpan StartupTimeout = TimeSpan.FromMinutes(3);

    private MockKafkaCluster? _kafka;
    private PostgresTestDatabase? _database;
    private OtlpReceiver? _otlp;
    private DistributedApplication? _app;
    private readonly CancellationTokenSource _stopLogs = new();
    private Task? _logs;

    public DistributedApplication App => _app ?? throw new InvalidOperationException("The application was not started.");

    public string BootstrapServers => _kafka?.BootstrapServers ?? throw new InvalidOperationException("No broker.");

    internal OtlpReceiver Otlp => _otlp ?? throw new InvalidOperationException("No OTLP receiver.");

    /// <summary>From <c>StartAsync</c> until every replica of every service reported healthy.</summary>
    public TimeSpan StartupToHealthy { get; private set; }

    /// <summary>From <c>StartAsync</c> until a first user ingested after that was stored (consumer groups formed).</summary>
    public TimeSpan StartupToFirstUserStored { get; private set; }

    public async ValueTask InitializeAsync()
    {
        using var startup = new CancellationTokenSource(StartupTimeout);
        _kafka = await MockKafkaCluster.StartAsync();
        _kafka.CreatePipelineTopics(TopicPartitions, deadLetterPartitions: 1);
        _database = await PostgresTestDatabase.CreateAsync();
        _otlp = await OtlpReceiver.StartAsync(startup.Token);

        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(
            [
                "--Pipeline:UseExistingInfrastructure=true",
                "--Pipeline:SinkStore=postgres",
                $"--Pipeline:ProcessorReplicas={Replicas}",
                $"--Pipeline:SinkReplicas={Replicas}",
                $"--ConnectionStrings:{ResourceNames.Kafka}={_kafka.BootstrapServers}",
                $"--ConnectionStrings:{ResourceNames.PipelineDatabase}={_database.ConnectionString}",
                "--Ingest:Source=generator",
                "--Ingest:Schedule:Paused=true",
                $"--Parameters:{ResourceNames.ApiKey}={Guid.NewGuid():N}",
            ],
            startup.Token);
        foreach (var service in PipelineClients.Services)
        {
            _otlp.ExportFrom(builder.CreateResourceBuilder<ProjectResource>(service));
        }

        _app = await builder.BuildAsync(startup.Token);
        _logs = ServiceLogs.Capture(_app, PipelineClients.Services, _stopLogs.Token);
        var started = Stopwatch.StartNew();
        await _app.StartAsync(startup.Token);
        await WaitUntilHealthyAsync(startup.Token);
        StartupToHealthy = started.Elapsed;

        // One user through the whole pipeline before any test: the consumer groups have formed and every
        // stage has made its tables, so that what a test measures is its own doing.
        var (_, warmUp) = await PipelineClients.RunAndStoreAsync(_app, 1, StartupTimeout, startup.Token);
        if (warmUp != 1)
        {
            throw new InvalidOperationException($"The first user was not stored within {StartupTimeout} ({warmUp} stored).");
        }

        StartupToFirstUserStored = started.Elapsed;
    }

    /// <summary>The DCP ids of a service's replicas (e.g. <c>processor-abcdefgh</c>), as its resource events name them.</summary>
    public async Task<string[]> ReplicaIdsAsync(string service, CancellationToken cancellationToken)
    {
        var replicas = AppModel.Replicas(Resource(service));
        var ids = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var resourceEvent in App.ResourceNotifications.WatchAsync(cancellationToken))
        {
            if (resourceEvent.Resource.Name == service && ids.Add(resourceEvent.ResourceId) && ids.Count == replicas)
            {
                break;
            }
        }

        return [.. ids.Order(StringComparer.Ordinal)];
    }

    /// <summary>Waits until every replica of every service reports running and healthy.</summary>
    public Task WaitUntilHealthyAsync(CancellationToken cancellationToken) =>
        WaitForReplicasAsync(PipelineClients.Services, e => e.Snapshot.State?.Text == KnownResourceStates.Running && e.Snapshot.HealthStatus == HealthStatus.Healthy, cancellationToken);

    /// <summary>
    /// Waits until every replica of <paramref name="services"/> is in a state that satisfies <paramref name="until"/>,
    /// following the resource events by replica id (<c>WaitForResourceHealthyAsync</c> takes a resource name).
    /// </summary>
    public async Task WaitForReplicasAsync(IReadOnlyCollection<string> services, Func<ResourceEvent, bool> until, CancellationToken cancellationToken)
    {
        var expected = services.Sum(s => AppModel.Replicas(Resource(s)));
        var satisfied = new Dictionary<string, bool>(StringComparer.Ordinal);
        await foreach (var resourceEvent in App.ResourceNotifications.WatchAsync(cancellationToken))
        {
            if (services.Contains(resourceEvent.Resource.Name))
            {
                satisfied[resourceEvent.ResourceId] = until(resourceEvent);
                if (satisfied.Count == expected && satisfied.Values.All(ok => ok))
                {
                    return;
                }
            }
        }
    }

    private IResource Resource(string name) =>
        App.Services.GetRequiredService<DistributedApplicationModel>().Resources.Single(r => r.Name == name);

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }

        await _stopLogs.CancelAsync();
        if (_logs is not null)
        {
            await _logs;
        }

        _stopLogs.Dispose();

        if (_otlp is not null)
        {
            await _otlp.DisposeAsync();
        }

        if (_database is not null)
        {
            await _database.DisposeAsync();
        }

        if (_kafka is not null)
        {
            await _kafka.DisposeAsync();
        }
    }
}
