namespace UserStream.Streaming.Hosting;

/// <summary>How a stage's worker judges itself. Section <c>&lt;Stage&gt;:Health</c>.</summary>
public sealed class WorkerHealthOptions
{
    /// <summary>
    /// The worker counts as stalled (Unhealthy) when it made no progress for this long while records are
    /// waiting for it (consumer lag &gt; 0) and it is not waiting out an outage.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan StallAfter { get; set; } = TimeSpan.FromMinutes(2);
}

/// <summary>The names of a stage's worker instruments (<c>userstream.&lt;stage&gt;.worker.*</c>).</summary>
public sealed record WorkerMetricNames(string Restarts, string Stalls);

/// <summary>
/// What a stage's consume loop reports about itself, as a health check (registered by the stage with
/// <see cref="StreamingServiceCollectionExtensions.AddWorkerHealth"/>): Unhealthy while its loop is restarting
/// after a failure (until the new run makes progress) or when it made no progress for
/// <see cref="WorkerHealthOptions.StallAfter"/> while records wait for it; Degraded while it waits out an outage
/// (store down, dead-letter topic refusing writes: fetching paused, nothing committed); Healthy otherwise.
/// Restarts and stalls are counted on the stage's meter.
/// </summary>
public sealed class WorkerHealth : IHealthCheck
{
    private readonly Lock _gate = new();
    private readonly string _worker;
    private readonly TimeSpan _stallAfter;
    private readonly TimeProvider _time;
    private readonly Counter<long> _restarts;
    private readonly Counter<long> _stalls;
    private DateTimeOffset _lastProgress;
    private long _lag;
    private string? _restarting;
    private string? _waiting;
    private bool _stalled;

    public WorkerHealth(string worker, Meter meter, WorkerMetricNames names, TimeSpan stallAfter, TimeProvider time)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(worker);
        ArgumentNullException.ThrowIfNull(meter);
        ArgumentNullException.ThrowIfNull(names);
        ArgumentNullException.ThrowIfNull(time);
        _worker = worker;
        _stallAfter = stallAfter;
        _time = time;
        _lastProgress = time.GetUtcNow();
        _restarts = meter.CreateCounter<long>(names.Restarts, "{restart}", $"Runs of the {worker} loop that failed and were restarted.");
        _stalls = meter.CreateCounter<long>(names.Stalls, "{stall}", $"Times the {worker} loop made no progress for its stall time while records waited for it.");
    }

    public string Worker => _worker;

    /// <summary>The loop's run failed with <paramref name="exception"/> and is restarted after a pause.</summary>
    public void Restarting(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        lock (_gate)
        {
            _restarting = $"{exception.GetType().Name}: {exception.Message}";
            _waiting = null;
        }

        _restarts.Add(1);
    }

    /// <summary>The loop finished a unit of work (a batch stored and committed, a transaction committed).</summary>
    public void Progressed()
    {
        lock (_gate)
        {
            _lastProgress = _time.GetUtcNow();
            _restarting = null;
            _stalled = false;
        }
    }

    /// <summary>
    /// Records waiting for the loop on its assigned partitions (high watermark - position, summed); 0 means
    /// caught up, which counts as progress. Re-evaluates the stall (counted once per stall).
    /// </summary>
    public void Lag(long records)
    {
        if (records <= 0)
        {
            Progressed();
            lock (_gate)
            {
                _lag = 0;
            }

            return;
        }

        lock (_gate)
        {
            _lag = records;
        }

        _ = Evaluate();
    }

    /// <summary>The loop waits out an outage (<paramref name="reason"/>): Degraded until <see cref="WaitOver"/>.</summary>
    public void Waiting(string reason)
    {
        lock (_gate)
        {
            _waiting = reason;
        }
    }

    public void WaitOver()
    {
        lock (_gate)
        {
            _waiting = null;
        }
    }

    /// <summary>The state now.</summary>
    public HealthCheckResult Evaluate()
    {
        bool newStall;
        HealthCheckResult result;
        lock (_gate)
        {
            var idle = _time.GetUtcNow() - _lastProgress;
            var stalled = _restarting is null && _waiting is null && _lag > 0 && idle >= _stallAfter;
            newStall = stalled && !_stalled;
            _stalled = stalled;
            var data = new Dictionary<string, object> { ["lag"] = _lag, ["sinceProgressSeconds"] = Math.Round(idle.TotalSeconds, 1) };
            result = _restarting is { } failure
                ? HealthCheckResult.Unhealthy($"{_worker} loop failed and is restarting: {failure}", data: data)
                : _waiting is { } reason
                    ? HealthCheckResult.Degraded($"{_worker} loop waiting: {reason}", data: data)
                    : stalled
                        ? HealthCheckResult.Unhealthy(
                            $"{_worker} loop stalled: no progress for {idle.TotalSeconds:0.0} s with {_lag} record(s) waiting", data: data)
                        : HealthCheckResult.Healthy($"{_worker} loop running", data);
        }

        if (newStall)
        {
            _stalls.Add(1);
        }

        return result;
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(Evaluate());
}
