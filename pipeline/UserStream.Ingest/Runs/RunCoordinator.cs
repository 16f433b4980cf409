namespace UserStream.Ingest.Runs;

/// <summary>The answer to a request to start a run.</summary>
internal abstract record TriggerResult
{
    /// <summary>The run was recorded and started; <paramref name="Completion"/> ends when it has.</summary>
    public sealed record Started(RunRecord Run, Task<RunOutcome> Completion) : TriggerResult;

    /// <summary>Another run is in progress (runs never overlap); the request was refused, not queued.</summary>
    public sealed record Busy(Guid RunningRunId) : TriggerResult;

    /// <summary>The stage cannot start a run now (ledger not ready or unreachable, stopping).</summary>
    public sealed record Unavailable(string Reason) : TriggerResult;
}

/// <summary>
/// Starts runs, one at a time: a request while a run is in progress is refused with that run's id.
/// Each run gets a new trace (its root span, linked to the request that triggered it) and a ledger row
/// before it starts. On shutdown the run in progress is told to stop and is awaited (it drains).
/// </summary>
internal sealed partial class RunCoordinator(
    RunLedger ledger,
    RunExecutor executor,
    IngestReadiness readiness,
    StageTelemetry telemetry,
    IOptions<IngestOptions> options,
    TimeProvider time,
    ILogger<RunCoordinator> logger) : IHostedService, IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly CancellationTokenSource _stopping = new();
    private RunRecord? _current;
    private Task<RunOutcome>? _currentCompletion;
    private RunOutcome? _unrecorded;

    /// <summary>The run in progress, if any.</summary>
    public RunRecord? Current => Volatile.Read(ref _current);

    public async Task<TriggerResult> TryStartAsync(RunTrigger trigger, int size, ActivityContext triggeredBy, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        if (!readiness.IsReady)
        {
            return new TriggerResult.Unavailable(readiness.Problem ?? "the stage is starting (preparing the run ledger)");
        }

        if (_stopping.IsCancellationRequested)
        {
            return new TriggerResult.Unavailable("the service is stopping");
        }

        if (!await _gate.WaitAsync(0, cancellationToken))
        {
            return new TriggerResult.Busy(Current?.Id ?? Guid.Empty);
        }

        var handedOver = false;
        Activity? activity = null;
        try
        {
            if (!await RecordPendingOutcomeAsync(cancellationToken))
            {
                return new TriggerResult.Unavailable("the run ledger is unreachable (the previous run's outcome is not yet recorded)");
            }

            var settings = options.Value;
            var now = time.GetUtcNow();
            var id = Guid.CreateVersion7(now);
            var source = SourceNames.Of(settings.Source);
            activity = StartRunSpan(id, trigger, source, size, triggeredBy);
            var run = new RunRecord(
                id, trigger, source, string.IsNullOrEmpty(settings.Seed) ? id.ToString("N") : settings.Seed, size,
                default, RunStatus.Running, null, now, null, activity?.TraceId.ToHexString());
            Volatile.Write(ref _current, run);
            try
            {
                await StartInLedgerAsync(run, settings, cancellationToken);
            }
            catch (RunAlreadyRecordedException)
            {
                return new TriggerResult.Unavailable("another run is recorded as running in the ledger by another live instance");
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException)
            {
                return new TriggerResult.Unavailable($"the run ledger is unreachable: {e.Message}");
            }

            LogRunStarted(logger, id, trigger, source, size);
            var runActivity = activity;
            var completion = Task.Run(() => RunAsync(run, settings, runActivity), CancellationToken.None);
            Volatile.Write(ref _currentCompletion, completion);
            handedOver = true;
            return new TriggerResult.Started(run, completion);
        }
        finally
        {
            if (!handedOver)
            {
                activity?.SetStatus(ActivityStatusCode.Error, "not started");
                activity?.Stop();
                Volatile.Write(ref _current, null);
                _gate.Release();
            }
        }
    }

    private Activity? StartRunSpan(Guid id, RunTrigger trigger, string source, int size, ActivityContext triggeredBy)
    {
        // A new trace per run, whatever is current (e.g. the HTTP request): the request is linked, not the parent.
        var previous = Activity.Current;
        Activity.Current = null;
        var activity = telemetry.Source.StartActivity(
            "ingest run",
            ActivityKind.Internal,
            parentContext: default,
            tags: new Dictionary<string, object?>
            {
                ["userstream.run.id"] = id.ToString(),
                ["userstream.run.trigger"] = trigger.Text(),
                ["userstream.source"] = source,
                ["userstream.run.requested"] = size,
            },
            links: triggeredBy == default ? null : [new ActivityLink(triggeredBy)]);
        Activity.Current = previous;
        return activity;
    }

    /// <summary>
    /// Records the run as running under this instance. When the ledger holds a running run already, the runs nobody
    /// runs any more (this instance's leftovers, lapsed leases) are marked interrupted and the start is tried once more.
    /// </summary>
    private async Task StartInLedgerAsync(RunRecord run, IngestOptions settings, CancellationToken cancellationToken)
    {
        try
        {
            await ledger.StartAsync(run, settings.Owner, cancellationToken);
        }
        catch (RunAlreadyRecordedException)
        {
            var taken = await ledger.MarkInterruptedAsync(
                settings.Owner, settings.RunLease, IngestScheduler.InterruptedError, time.GetUtcNow(), cancellationToken);
            if (taken.Count == 0)
            {
                throw;
            }

            foreach (var id in taken)
            {
                LogLapsedRunInterrupted(logger, id);
            }

            await ledger.StartAsync(run, settings.Owner, cancellationToken);
        }
    }

    private async Task<RunOutcome> RunAsync(RunRecord run, IngestOptions settings, Activity? activity)
    {
        Activity.Current = activity;
        using var owned = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        using var leaseEnded = new CancellationTokenSource();
        var lease = RenewLeaseAsync(run.Id, settings, owned, leaseEnded.Token);
        try
        {
            var outcome = await executor.ExecuteAsync(run, activity, owned.Token);
            if (!outcome.Recorded)
            {
                Volatile.Write(ref _unrecorded, outcome);
            }

            return outcome;
        }
#pragma warning disable CA1031 // A bug in a run must not leave its row running forever: it is recorded as failed.
        catch (Exception e)
#pragma warning restore CA1031
        {
            LogRunCrashed(logger, e, run.Id);
            var outcome = new RunOutcome(run.Id, default, RunStatus.Failed, $"internal error: {e.Message}", time.GetUtcNow(), Recorded: false);
            Volatile.Write(ref _unrecorded, outcome);
            await RecordPendingOutcomeAsync(CancellationToken.None);
            return outcome;
        }
        finally
        {
            await leaseEnded.CancelAsync();
            await lease;
            activity?.Stop();
            Volatile.Write(ref _current, null);
            _gate.Release();
        }
    }

    /// <summary>
    /// Renews the run's lease every third of <see cref="IngestOptions.RunLease"/> while it runs. When the ledger says the
    /// run is no longer this instance's (another instance found the lease lapsed, e.g. after a long database outage, and
    /// marked it interrupted), the run is stopped like on shutdown, so that two runs never go on at once.
    /// </summary>
    private async Task RenewLeaseAsync(Guid runId, IngestOptions settings, CancellationTokenSource owned, CancellationToken ended)
    {
        using var timer = new PeriodicTimer(settings.RunLease / 3, time);
        try
        {
            while (await timer.WaitForNextTickAsync(ended))
            {
                try
                {
                    if (!await ledger.RenewAsync(runId, settings.Owner, ended))
                    {
                        LogLeaseLost(logger, runId);
                        await owned.CancelAsync();
                        return;
                    }
                }
                catch (Exception e) when (e is NpgsqlException or TimeoutException)
                {
                    LogLeaseNotRenewed(logger, e, runId);
                }
            }
        }
        catch (OperationCanceledException) when (ended.IsCancellationRequested)
        {
        }
    }

    /// <summary>Writes the outcome of a run whose ledger update failed, before anything else starts.</summary>
    private async Task<bool> RecordPendingOutcomeAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _unrecorded) is not { } pending)
        {
            return true;
        }

        try
        {
            await ledger.CompleteAsync(pending.RunId, pending.Counts, pending.Status, pending.Error, pending.EndedAt, cancellationToken);
            Volatile.Write(ref _unrecorded, null);
            return true;
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            return false;
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Tells the run in progress to stop fetching and waits for it to drain and record its outcome.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        if (Volatile.Read(ref _currentCompletion) is { IsCompleted: false } running && Current is { } run)
        {
            LogWaitingForRun(logger, run.Id);
            try
            {
                await running.WaitAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                LogRunAbandoned(logger, run.Id);
            }
        }

        await RecordPendingOutcomeAsync(CancellationToken.None);
    }

    public void Dispose()
    {
        _gate.Dispose();
        _stopping.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Run {RunId} started ({Trigger}, {Source}, {Requested} users)")]
    private static partial void LogRunStarted(ILogger logger, Guid runId, RunTrigger trigger, string source, int requested);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Run {RunId}'s owner stopped renewing its lease; marked interrupted")]
    private static partial void LogLapsedRunInterrupted(ILogger logger, Guid runId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Run {RunId} is no longer this instance's (its lease lapsed and another instance marked it interrupted); stopping it")]
    private static partial void LogLeaseLost(ILogger logger, Guid runId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Run {RunId}'s lease could not be renewed; retrying at the next renewal")]
    private static partial void LogLeaseNotRenewed(ILogger logger, Exception exception, Guid runId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Run {RunId} failed unexpectedly")]
    private static partial void LogRunCrashed(ILogger logger, Exception exception, Guid runId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stopping: waiting for run {RunId} to deliver what it fetched")]
    private static partial void LogWaitingForRun(ILogger logger, Guid runId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stopping: run {RunId} did not finish in time; the next start marks it interrupted")]
    private static partial void LogRunAbandoned(ILogger logger, Guid runId);
}
