using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using UserStream.Streaming.Hosting;
using UserStream.Tests.Process;

namespace UserStream.Tests.Batching;

/// <summary>The toolkit's worker loop reports a failing, restarting run on its health check and counts the restarts.</summary>
public sealed class WorkerHealthTests
{
    private const string Meter = "UserStream.WorkerHealthTest";
    private static readonly WorkerMetricNames Names = new("userstream.test.worker.restarts", "userstream.test.worker.stalls");

    [Fact]
    public async Task A_restarting_loop_is_unhealthy_and_healthy_again_once_a_run_makes_progress()
    {
        using var metrics = new StageMetrics(Meter);
        var switches = new FailingSwitch { Failing = true };
        await using var host = await StageHost.StartAsync(
            new Dictionary<string, string?>(),
            b =>
            {
                b.Services.AddStageTelemetry(Meter);
                b.Services.AddSingleton(switches);
                b.Services.AddWorkerHealth(FlakyWorker.Name, Names, _ => new WorkerHealthOptions());
                b.Services.AddHostedService<FlakyWorker>();
            },
            cancellationToken: Ct);
        var check = StreamingServiceCollectionExtensions.WorkerHealthCheckName(FlakyWorker.Name);

        var failing = await Eventually.Async(() => host.HealthAsync(check, Ct), e => e.Status == HealthStatus.Unhealthy, cancellationToken: Ct);
        Assert.Equal(HealthStatus.Unhealthy, failing.Status);
        Assert.Contains("restarting", failing.Description, StringComparison.Ordinal);
        switches.Failing = false;

        Assert.Equal(HealthStatus.Healthy, (await Eventually.Async(() => host.HealthAsync(check, Ct), e => e.Status == HealthStatus.Healthy, cancellationToken: Ct)).Status);
        Assert.True(metrics.Sum(host, Names.Restarts) >= 1);
    }

    private sealed class FailingSwitch
    {
        public volatile bool Failing;
    }

    private sealed class FlakyWorker(FailingSwitch switches, WorkerHealth health, ILogger<FlakyWorker> logger) : StreamingWorker(logger, health)
    {
        public const string Name = "flaky";

        protected override string WorkerName => Name;

        protected override void Run(CancellationToken stoppingToken)
        {
            if (switches.Failing)
            {
                throw new InvalidOperationException("the run failed");
            }

            while (!stoppingToken.WaitHandle.WaitOne(100))
            {
                Health.Progressed();
            }
        }
    }
}
