namespace UserStream.Streaming.Hosting;

/// <summary>
/// A stage's readiness, the one type for it: closed until what the stage needs at startup is prepared (its tables,
/// its store's schema…), then open for good. Work waits for it (<see cref="WaitAsync"/>) or is refused while it is
/// closed, and as a health check it reports the last problem seen until then. Each stage names its own (a subclass
/// giving the texts), so that each is one singleton of its own type.
/// </summary>
public abstract class Readiness(string readyDescription, string startingDescription) : IHealthCheck
{
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile string? _problem;

    public bool IsReady => _ready.Task.IsCompleted;

    /// <summary>Why the stage is not ready (null when it is, or when nothing failed yet).</summary>
    public string? Problem => _problem;

    public void MarkReady()
    {
        _problem = null;
        _ready.TrySetResult();
    }

    /// <summary>Records why preparing failed this time (it is being retried).</summary>
    public void NotReady(string problem) => _problem = problem;

    public Task WaitAsync(CancellationToken cancellationToken) => _ready.Task.WaitAsync(cancellationToken);

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        return Task.FromResult(IsReady
            ? HealthCheckResult.Healthy(readyDescription)
            : new HealthCheckResult(context.Registration.FailureStatus, _problem ?? startingDescription));
    }
}
