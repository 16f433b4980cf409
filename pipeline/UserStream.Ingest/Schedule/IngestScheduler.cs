namespace UserStream.Ingest.Schedule;

/// <summary>
/// Prepares the ledger at startup (schema, runs nobody runs any more marked interrupted — this instance's own
/// leftovers and runs whose lease lapsed, never a live instance's —, schedule settings
/// loaded; retried with backoff while the database is unreachable), then starts a run of the configured
/// size every interval unless paused. The next start is one interval after the previous scheduled start
/// (taken from the ledger, so a restart keeps the rhythm); a run longer than the interval is followed
/// at once by the next. When a manual run is in progress at the planned time, that scheduled run is skipped.
/// </summary>
internal sealed partial class IngestScheduler(
    LedgerSchema schema,
    RunLedger ledger,
    ScheduleStore store,
    ScheduleState state,
    IngestReadiness readiness,
    RunCoordinator coordinator,
    IOptions<IngestOptions> options,
    TimeProvider time,
    ILogger<IngestScheduler> logger) : BackgroundService
{
    private static readonly TimeSpan FirstPause = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan LongestPause = TimeSpan.FromSeconds(30);

    /// <summary>The error a run left running by a previous process is recorded with.</summary>
    public const string InterruptedError = "interrupted: the service stopped before the run ended";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await InitializeAsync(stoppingToken);
            await ScheduleAsync(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task InitializeAsync(CancellationToken stoppingToken)
    {
        var retry = Backoff.Exponential("ledger-initialize", FirstPause, LongestPause);
        retry.ShouldHandle = new PredicateBuilder()
            .Handle<Npgsql.NpgsqlException>()
            .Handle<TimeoutException>()
            .Handle<System.Net.Sockets.SocketException>();
        retry.OnRetry = args =>
        {
            readiness.NotReady($"the run ledger is not ready: {args.Outcome.Exception!.Message}");
            LogNotReady(logger, args.Outcome.Exception, args.RetryDelay.TotalSeconds);
            return ValueTask.CompletedTask;
        };

        await retry.ToPipeline(time).ExecuteAsync(
            async token =>
            {
                await schema.EnsureAsync(token);
                var settings = options.Value;
                foreach (var id in await ledger.MarkInterruptedAsync(settings.Owner, settings.RunLease, InterruptedError, time.GetUtcNow(), token))
                {
                    LogMarkedInterrupted(logger, id);
                }

                state.Set(await store.EnsureAsync(settings.Schedule, time.GetUtcNow(), token));
                state.LastScheduledStart = await ledger.LastScheduledStartAsync(token);
            },
            stoppingToken);
        readiness.MarkReady();
        LogReady(logger);
    }

    private async Task ScheduleAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var changed = state.Changed;
            var now = time.GetUtcNow();
            if (state.DueAt(now) is not { } due)
            {
                await changed.WaitAsync(stoppingToken); // paused
                continue;
            }

            if (due > now)
            {
                using var wake = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                var delay = Task.Delay(due - now, time, wake.Token);
                if (await Task.WhenAny(delay, changed) == changed)
                {
                    await wake.CancelAsync();
                    continue; // re-plan with the new settings
                }

                await delay;
            }

            state.LastScheduledStart = time.GetUtcNow();
            var size = Math.Min(state.Settings!.Size, options.Value.MaxRunSize);
            switch (await coordinator.TryStartAsync(RunTrigger.Schedule, size, default, stoppingToken))
            {
                case TriggerResult.Started started:
                    await started.Completion.WaitAsync(stoppingToken);
                    break;
                case TriggerResult.Busy busy:
                    LogSkippedBusy(logger, busy.RunningRunId);
                    break;
                case TriggerResult.Unavailable unavailable:
                    LogSkippedUnavailable(logger, unavailable.Reason);
                    break;
                default:
                    throw new UnreachableException();
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Run {RunId} was left running by a stopped instance (this one's previous process, or its lease lapsed); marked interrupted")]
    private static partial void LogMarkedInterrupted(ILogger logger, Guid runId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Ingest stage ready: run ledger prepared, schedule loaded")]
    private static partial void LogReady(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Run ledger not ready; retrying in {PauseSeconds} s")]
    private static partial void LogNotReady(ILogger logger, Exception exception, double pauseSeconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Scheduled run skipped: run {RunId} is in progress")]
    private static partial void LogSkippedBusy(ILogger logger, Guid runId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Scheduled run skipped: {Reason}")]
    private static partial void LogSkippedUnavailable(ILogger logger, string reason);
}
