using UserStream.Ingest.Producing;

namespace UserStream.Ingest.Runs;

/// <summary>How a run ended; <see cref="Recorded"/> is false when the ledger could not be written.</summary>
internal sealed record RunOutcome(Guid RunId, RunCounts Counts, RunStatus Status, string? Error, DateTimeOffset EndedAt, bool Recorded);

/// <summary>
/// Executes one run: fetches the requested users page by page (at most <c>PageSize</c> per call) and
/// produces each page as it arrives, writes the counts to the ledger after each page, waits until the
/// broker acknowledged every record (bounded by <c>DeliveryTimeout</c>), then records the outcome.
/// Stopping the service ends fetching at once; what was already fetched is still produced (bounded by
/// <c>DrainTimeout</c>) and the run is recorded as interrupted.
/// </summary>
internal sealed partial class RunExecutor(
    IServiceScopeFactory scopes,
    UserProducer producer,
    RunLedger ledger,
    IngestMetrics metrics,
    IOptions<IngestOptions> options,
    TimeProvider time,
    ILogger<RunExecutor> logger)
{
    /// <summary>Writing a run's outcome: 5 retries, 250 ms doubling to 4 s (about 8 s in all), then it is written before the next run.</summary>
    private readonly ResiliencePipeline _ledgerRetry = LedgerRetry().ToPipeline(time);

    public async Task<RunOutcome> ExecuteAsync(RunRecord run, Activity? activity, CancellationToken stopping)
    {
        var settings = options.Value;
        var tally = new RunTally();
        var problems = new List<string>();
        var interrupted = false;
        if (CreateProducer(problems) is { } kafka)
        {
            // Producing what was fetched gets DrainTimeout once the service is stopping.
            using var producing = new CancellationTokenSource();
            using var drainOnStop = stopping.Register(() => producing.CancelAfter(settings.DrainTimeout));
            interrupted = await FetchAndProduceAsync(run, activity, kafka, tally, problems, stopping, producing.Token);
            interrupted |= await AwaitDeliveriesAsync(tally, problems, interrupted, stopping, producing.Token);
        }

        return await EndAsync(run, activity, tally, problems, interrupted);
    }

    private IProducer<string, byte[]>? CreateProducer(List<string> problems)
    {
        try
        {
            return producer.ForRun();
        }
        catch (Exception e) when (e is KafkaException or ArgumentException or InvalidOperationException)
        {
            problems.Add($"the producer could not be created: {e.Message}");
            return null;
        }
    }

    /// <summary>Fetches page after page and hands each user to the producer. Returns whether the service stopped it.</summary>
    private async Task<bool> FetchAndProduceAsync(
        RunRecord run, Activity? activity, IProducer<string, byte[]> kafka, RunTally tally, List<string> problems,
        CancellationToken stopping, CancellationToken producing)
    {
        var settings = options.Value;
        var stamp = new RunStamp(run.Id, run.Source, activity?.Context ?? default);
        using var runDeadline = new CancellationTokenSource(settings.RunTimeout, time);
        using var fetching = CancellationTokenSource.CreateLinkedTokenSource(stopping, runDeadline.Token);
        await using var scope = scopes.CreateAsyncScope();
        var source = scope.ServiceProvider.GetRequiredService<IUserSource>();
        try
        {
            var remaining = run.Requested;
            for (var page = 1; remaining > 0; page++)
            {
                UserPage fetched;
                try
                {
                    fetched = await source.FetchAsync(new PageRequest(run.Seed, page, Math.Min(remaining, settings.PageSize)), fetching.Token);
                }
                catch (FetchFailedException e)
                {
                    tally.FetchAttemptsFailed(e.Attempts);
                    problems.Add($"fetch of page {page} failed: {e.Message}");
                    return false;
                }
                catch (OperationCanceledException) when (fetching.IsCancellationRequested)
                {
                    if (stopping.IsCancellationRequested)
                    {
                        problems.Add("interrupted: the service stopped during the run");
                        return true;
                    }

                    problems.Add($"run timed out after {settings.RunTimeout}");
                    return false;
                }

                tally.PageFetched(fetched.Users.Count, fetched.Attempts);
                metrics.Fetched(source.Name, fetched.Users.Count);
                foreach (var user in fetched.Users)
                {
                    await producer.ProduceAsync(kafka, settings.Topic, user, stamp, tally, producing);
                }

                remaining -= fetched.Users.Count;
                await ProgressAsync(run.Id, tally.Snapshot());
            }

            return false;
        }
        finally
        {
            tally.CloseDispatch();
        }
    }

    /// <summary>
    /// Waits until the broker answered for every record (DeliveryTimeout; DrainTimeout when stopping); records
    /// still unanswered then count as failed. Returns whether the stop cut the wait short.
    /// </summary>
    private async Task<bool> AwaitDeliveriesAsync(
        RunTally tally, List<string> problems, bool interrupted, CancellationToken stopping, CancellationToken producing)
    {
        var settings = options.Value;
        try
        {
            await tally.Delivered.WaitAsync(settings.DeliveryTimeout, time, producing);
        }
        catch (TimeoutException)
        {
        }
        catch (OperationCanceledException)
        {
        }

        var unacknowledged = tally.Freeze(stopping.IsCancellationRequested
            ? "not acknowledged before the service stopped"
            : $"not acknowledged within {settings.DeliveryTimeout}");
        if (unacknowledged > 0 && stopping.IsCancellationRequested && !interrupted)
        {
            problems.Insert(0, "interrupted: the service stopped while records were being delivered");
            return true;
        }

        return false;
    }

    /// <summary>Decides the run's status from its counts and problems, records it, and reports it.</summary>
    private async Task<RunOutcome> EndAsync(RunRecord run, Activity? activity, RunTally tally, List<string> problems, bool interrupted)
    {
        var counts = tally.Snapshot();
        if (counts.Failed > 0)
        {
            problems.Add($"{counts.Failed} of {counts.Fetched} records not acknowledged by the broker: {tally.FirstDeliveryError}");
        }

        var status = problems.Count == 0 && counts.Produced >= run.Requested ? RunStatus.Succeeded
            : interrupted ? RunStatus.Failed
            : counts.Produced > 0 ? RunStatus.Partial
            : RunStatus.Failed;
        if (problems.Count == 0 && status != RunStatus.Succeeded)
        {
            problems.Add($"{counts.Produced} of {run.Requested} users delivered");
        }

        var error = problems.Count == 0 ? null : string.Join("; ", problems);
        var endedAt = time.GetUtcNow();
        var recorded = await CompleteAsync(run.Id, counts, status, error, endedAt);

        metrics.RunEnded(run.Trigger.Text(), status.Text(), endedAt - run.StartedAt);
        if (activity is not null)
        {
            activity.SetTag("userstream.run.status", status.Text());
            activity.SetTag("userstream.run.fetched", counts.Fetched);
            activity.SetTag("userstream.run.produced", counts.Produced);
            activity.SetTag("userstream.run.failed", counts.Failed);
            activity.SetStatus(status == RunStatus.Succeeded ? ActivityStatusCode.Ok : ActivityStatusCode.Error, error);
        }

        if (status == RunStatus.Succeeded)
        {
            LogRunSucceeded(logger, run.Id, counts.Produced, (endedAt - run.StartedAt).TotalSeconds);
        }
        else
        {
            LogRunNotSucceeded(logger, run.Id, status.Text(), counts.Fetched, counts.Produced, counts.Failed, error ?? "");
        }

        return new RunOutcome(run.Id, counts, status, error, endedAt, recorded);
    }

    /// <summary>Best effort: a ledger hiccup during a run does not stop the run.</summary>
    private async Task ProgressAsync(Guid runId, RunCounts counts)
    {
        try
        {
            await ledger.ProgressAsync(runId, counts, CancellationToken.None);
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or TimeoutException)
        {
            LogProgressNotRecorded(logger, e, runId);
        }
    }

    /// <summary>Records the outcome, retrying a few times; false when the ledger stayed unreachable.</summary>
    private async Task<bool> CompleteAsync(Guid runId, RunCounts counts, RunStatus status, string? error, DateTimeOffset endedAt)
    {
        try
        {
            await _ledgerRetry.ExecuteAsync(
                async token => await ledger.CompleteAsync(runId, counts, status, error, endedAt, token), CancellationToken.None);
            return true;
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or TimeoutException)
        {
            LogOutcomeNotRecorded(logger, e, runId);
            return false;
        }
    }

    private static RetryStrategyOptions LedgerRetry()
    {
        var retry = Backoff.Exponential("ledger-complete", TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(4), maxRetries: 5);
        retry.ShouldHandle = new PredicateBuilder().Handle<Npgsql.NpgsqlException>().Handle<TimeoutException>();
        return retry;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Run {RunId} succeeded: {Produced} users produced in {Seconds:F1} s")]
    private static partial void LogRunSucceeded(ILogger logger, Guid runId, int produced, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Run {RunId} ended {Status}: fetched {Fetched}, produced {Produced}, failed {Failed}: {Error}")]
    private static partial void LogRunNotSucceeded(ILogger logger, Guid runId, string status, int fetched, int produced, int failed, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Progress of run {RunId} could not be written to the ledger")]
    private static partial void LogProgressNotRecorded(ILogger logger, Exception exception, Guid runId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Outcome of run {RunId} could not be written to the ledger; it is written before the next run")]
    private static partial void LogOutcomeNotRecorded(ILogger logger, Exception exception, Guid runId);
}
