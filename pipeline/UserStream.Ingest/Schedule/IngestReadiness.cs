using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace UserStream.Ingest.Schedule;

/// <summary>
/// Whether the stage is ready: its tables exist, runs left running by a previous process were marked
/// interrupted, and the schedule is loaded. Until then runs are refused (503) and the health check is
/// unhealthy with the last problem seen.
/// </summary>
internal sealed class IngestReadiness : IHealthCheck
{
    private volatile bool _ready;
    private volatile string? _problem;

    public bool IsReady => _ready;

    /// <summary>Why the stage is not ready (null when it is, or when nothing failed yet).</summary>
    public string? Problem => _problem;

    public void MarkReady()
    {
        _problem = null;
        _ready = true;
    }

    public void NotReady(string problem) => _problem = problem;

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(_ready
            ? HealthCheckResult.Healthy("run ledger ready")
            : new HealthCheckResult(context.Registration.FailureStatus, _problem ?? "starting: preparing the run ledger"));
}
