namespace UserStream.AppHost.Tests.Infrastructure;

/// <summary>
/// The whole AppHost, started once for a test class: Kafka, PostgreSQL and Cassandra containers without
/// data volumes (a fresh pipeline), the ingestor on its offline generator, one processor and one sink
/// replica, and the services' spans exported to an <see cref="OtlpReceiver"/>. Where no container engine
/// answers, nothing is started and <see cref="SkipReason"/> says why.
/// </summary>
public sealed class PipelineApp : IAsyncLifetime
{
    private static readonly TimeSpan StartupTimeout = TimeSpan.FromMinutes(10);

    private DistributedApplication? _app;
    private OtlpReceiver? _otlp;

    /// <summary>Why the pipeline could not be started here, or null when it runs.</summary>
    public string? SkipReason { get; private set; }

    public DistributedApplication App => _app ?? throw new InvalidOperationException(SkipReason ?? "The pipeline was not started.");

    internal OtlpReceiver Otlp => _otlp ?? throw new InvalidOperationException(SkipReason ?? "The pipeline was not started.");

    public async ValueTask InitializeAsync()
    {
        using var startup = new CancellationTokenSource(StartupTimeout);
        SkipReason = await ContainerEngine.UnavailableReasonAsync(startup.Token);
        if (SkipReason is not null)
        {
            return;
        }

        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(
            [
                "--Pipeline:UseDataVolumes=false",
                "--Pipeline:ProcessorReplicas=1",
                "--Pipeline:SinkReplicas=1",
                "--Pipeline:TopicPartitions=3",
                "--Ingest:Source=generator",
                $"--Parameters:postgres-password={Guid.NewGuid():N}",
            ],
            startup.Token);
        _otlp = await OtlpReceiver.StartAsync(startup.Token);
        foreach (var service in PipelineClients.Services)
        {
            _otlp.ExportFrom(builder.CreateResourceBuilder<ProjectResource>(service));
        }

        _app = await builder.BuildAsync(startup.Token);
        await _app.StartAsync(startup.Token);
        foreach (var service in PipelineClients.Services)
        {
            await _app.ResourceNotifications.WaitForResourceHealthyAsync(service, startup.Token);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }

        if (_otlp is not null)
        {
            await _otlp.DisposeAsync();
        }
    }
}
