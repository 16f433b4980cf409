namespace UserStream.Sink.Writing;

/// <summary>
/// Gets a batch's decoded records into the store: one version per id (the latest ingested), written in one
/// call, through a Polly retry pipeline that decides by evidence. A failure that may be the store's state
/// (<see cref="IUserStore.IsTransient"/>) makes it probe the store (<see cref="IUserStore.ProbeAsync"/>): a
/// failing probe is an outage, waited out with exponential backoff for as long as it takes (fetching paused,
/// nothing committed, health Degraded, never dead-lettered); a passing probe means the store answers and
/// refuses this batch, which after <see cref="StoreRetryOptions.MaxAttemptsPerRecord"/> attempts is split in
/// halves until the refused records are isolated. A record refused alone that many times while the store
/// answers (or for its own values) is marked rejected (<c>store_rejected</c>, the store's error in the
/// reason) while the others land. Afterwards every record is Written, Superseded, Rejected or Dropped.
/// </summary>
public sealed partial class BatchWriter
{
    private const string Table = TableNames.CreatedUsers;

    private static readonly ResiliencePropertyKey<GroupWrite> GroupKey = new("userstream.sink.group");

    private readonly IUserStore _store;
    private readonly StoreRetryOptions _retry;
    private readonly SinkTracing _tracing;
    private readonly SinkMetrics _metrics;
    private readonly WorkerHealth _health;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ResiliencePipeline _pipeline;

    public BatchWriter(
        IUserStore store, IOptions<SinkOptions> options, SinkTracing tracing, SinkMetrics metrics, WorkerHealth health,
        TimeProvider time, ILogger<BatchWriter> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _store = store;
        _retry = options.Value.Retry;
        _tracing = tracing;
        _metrics = metrics;
        _health = health;
        _time = time;
        _logger = logger;
        var strategy = _retry.RetryForever("store-write");
        strategy.ShouldHandle = args => ShouldRetryAsync(args.Outcome.Exception, args.Context);
        // The store answers but refused: a short pause only, the store is not to be waited for.
        strategy.DelayGenerator = args => ValueTask.FromResult(args.Context.Properties.GetValue(GroupKey, null!).StoreAnswered ? _retry.InitialDelay : (TimeSpan?)null);
        strategy.OnRetry = args => OnRetry(args.Context.Properties.GetValue(GroupKey, null!), args.Outcome.Exception!, args.RetryDelay);
        _pipeline = strategy.ToPipeline(time);
    }

    /// <summary>Writes the pending records of <paramref name="records"/>. Blocking: call it from the consumer's thread.</summary>
    public void Write(IReadOnlyList<SinkRecord> records, ConsumerWait wait, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(records);
        ArgumentNullException.ThrowIfNull(wait);
        var pending = records.Where(r => r.State == SinkRecordState.Pending).ToList();
        var latest = LatestVersions.Of(pending, r => r.User!);
        if (latest.Count != pending.Count)
        {
            foreach (var superseded in pending.Except(latest))
            {
                superseded.State = SinkRecordState.Superseded;
            }
        }

        if (latest.Count == 0)
        {
            return;
        }

        var attempt = new Attempt(this, wait, cancellationToken);
        var startedAt = _time.GetUtcNow();
        var started = Stopwatch.GetTimestamp();
        using var batchSpan = _tracing.StartBatchWrite(latest, Table);
        if (attempt.UntilDoneOrRefused(latest) is { } failure)
        {
            batchSpan?.AddEvent(new ActivityEvent("split", tags: new ActivityTagsCollection { ["exception.message"] = failure.Error.Message }));
            LogSplitting(_logger, failure.Error, latest.Count);
            attempt.Isolate(latest);
        }

        var confirmedAt = _time.GetUtcNow();
        _metrics.BatchWritten(Stopwatch.GetElapsedTime(started));
        batchSpan?.SetTag("userstream.sink.retries", attempt.Retries);
        foreach (var record in latest.Where(r => r.State == SinkRecordState.Written))
        {
            _tracing.RecordWritten(record, batchSpan, startedAt, confirmedAt, Table);
        }
    }

    private static string Describe(Exception exception) => $"{exception.GetType().Name}: {exception.Message}";

    /// <summary>
    /// Whether the write of a group is tried again after <paramref name="exception"/>: always while the store
    /// fails its probe (an outage); while it answers, up to <see cref="StoreRetryOptions.MaxAttemptsPerRecord"/>
    /// attempts; an error naming the written values is retried only for a record alone (a group is split at once).
    /// </summary>
    private async ValueTask<bool> ShouldRetryAsync(Exception? exception, ResilienceContext context)
    {
        if (exception is null or OperationCanceledException || context.CancellationToken.IsCancellationRequested)
        {
            return false;
        }

        var group = context.Properties.GetValue(GroupKey, null!);
        if (!_store.IsTransient(exception))
        {
            group.StoreAnswered = true;
            group.Refusals++;
            return group.Alone && group.Refusals < _retry.MaxAttemptsPerRecord;
        }

        if (await StoreAnswersAsync(context.CancellationToken))
        {
            group.StoreAnswered = true;
            group.Refusals++;
            return group.Refusals < _retry.MaxAttemptsPerRecord;
        }

        group.StoreAnswered = false;
        group.Refusals = 0;
        group.Outage = true;
        return true;
    }

    private async Task<bool> StoreAnswersAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_retry.ProbeTimeout);
        try
        {
            await _store.ProbeAsync(timeout.Token);
            return true;
        }
#pragma warning disable CA1031 // Any failure of the probe is the evidence sought: the store does not answer.
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
#pragma warning restore CA1031
        {
            LogProbeFailed(_logger, e);
            return false;
        }
    }

    private ValueTask OnRetry(GroupWrite group, Exception exception, TimeSpan delay)
    {
        group.Retries++;
        _metrics.Retried();
        if (group.StoreAnswered)
        {
            LogStoreRefuses(_logger, exception, group.Count, group.Refusals, delay.TotalMilliseconds);
        }
        else
        {
            _health.Waiting($"the store is unavailable ({Describe(exception)}); fetching paused, nothing committed");
            LogStoreUnavailable(_logger, exception, group.Count, group.Retries, delay.TotalMilliseconds);
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>One group's write under the pipeline: what the retry decisions are based on.</summary>
    private sealed class GroupWrite(IReadOnlyList<SinkRecord> records, bool alone)
    {
        public IReadOnlyList<SinkRecord> Records { get; } = records;

        public bool Alone { get; } = alone;

        public int Count => Records.Count;

        /// <summary>The last failure was followed by a passing probe (or named the values).</summary>
        public bool StoreAnswered { get; set; }

        /// <summary>Failures in a row while the store answered.</summary>
        public int Refusals { get; set; }

        public bool Outage { get; set; }

        public int Retries { get; set; }

        /// <summary>The records the store confirmed (set by the successful attempt).</summary>
        public List<SinkRecord> Written { get; set; } = [];
    }

    /// <summary>A group the store kept refusing while it answered: the last error and the attempts made.</summary>
    private sealed record Refusal(Exception Error, int Attempts);

    /// <summary>The attempts for one batch.</summary>
    private sealed class Attempt(BatchWriter writer, ConsumerWait wait, CancellationToken cancellationToken)
    {
        public int Retries { get; private set; }

        /// <summary>
        /// Writes the still-pending <paramref name="records"/> through the pipeline, riding out outages. Returns
        /// null when written (or nothing was left to write), else the refusal.
        /// </summary>
        public Refusal? UntilDoneOrRefused(IReadOnlyList<SinkRecord> records, bool alone = false)
        {
            if (!records.Any(r => r.State == SinkRecordState.Pending))
            {
                return null;
            }

            var group = new GroupWrite(records, alone);
            var context = ResilienceContextPool.Shared.Get(cancellationToken);
            context.Properties.Set(GroupKey, group);
            try
            {
                var work = writer._pipeline.ExecuteAsync(
                    static async (context, state) =>
                    {
                        // A revocation while waiting drops records: write only what is still ours.
                        var live = state.Group.Records.Where(r => r.State == SinkRecordState.Pending).ToList();
                        if (live.Count > 0)
                        {
                            await state.Store.WriteAsync([.. live.Select(r => r.User!)], context.CancellationToken);
                        }

                        state.Group.Written = live;
                    },
                    context,
                    (Store: writer._store, Group: group)).AsTask();
                wait(work, cancellationToken);
                work.GetAwaiter().GetResult();
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is not OperationCanceledException)
            {
                return new Refusal(e, Math.Max(1, group.Refusals));
            }
            catch (Exception e) when (cancellationToken.IsCancellationRequested && e is not OperationCanceledException)
            {
                throw new OperationCanceledException(
                    "Stopped before the store confirmed the batch; it stays uncommitted and is redelivered.", e, cancellationToken);
            }
            finally
            {
                Retries += group.Retries;
                ResilienceContextPool.Shared.Return(context);
                if (group.Outage)
                {
                    writer._health.WaitOver();
                }
            }

            foreach (var record in group.Written)
            {
                if (record.State == SinkRecordState.Pending)
                {
                    record.State = SinkRecordState.Written;
                }
            }

            writer._metrics.RowsWritten(group.Written.Count);
            if (group.Outage)
            {
                LogStoreRecovered(writer._logger, group.Retries);
            }

            return null;
        }

        /// <summary>
        /// <paramref name="records"/> were refused as a whole: find the records the store refuses by halving,
        /// write the rest, and reject each record refused alone after its own attempts.
        /// </summary>
        public void Isolate(IReadOnlyList<SinkRecord> records)
        {
            var live = records.Where(r => r.State == SinkRecordState.Pending).ToList();
            if (live.Count == 0)
            {
                return;
            }

            if (live.Count == 1)
            {
                if (UntilDoneOrRefused(live, alone: true) is { } refusal)
                {
                    Reject(live[0], refusal);
                }

                return;
            }

            var half = live.Count / 2;
            foreach (var part in new[] { live[..half], live[half..] })
            {
                if (part.Count == 1 || UntilDoneOrRefused(part) is not null)
                {
                    Isolate(part);
                }
            }
        }

        private void Reject(SinkRecord record, Refusal refusal)
        {
            if (record.State != SinkRecordState.Pending)
            {
                return;
            }

            record.State = SinkRecordState.Rejected;
            record.Rejection = new Rejection(
                DeadLetterCodes.StoreRejected, $"The store refused this record {refusal.Attempts} time(s) while it answered: {Describe(refusal.Error)}");
            LogRejected(writer._logger, refusal.Error, record.User!.Id, record.Consumed.TopicPartitionOffset.ToString(), refusal.Attempts);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Store unavailable writing {Records} record(s) (retry {Retry}); next attempt in {DelayMs} ms; fetching paused, nothing committed")]
    private static partial void LogStoreUnavailable(ILogger logger, Exception exception, int records, int retry, double delayMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Store answers its probe but refused {Records} record(s) ({Refusals} time(s)); next attempt in {DelayMs} ms")]
    private static partial void LogStoreRefuses(ILogger logger, Exception exception, int records, int refusals, double delayMs);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Store probe failed: the store counts as unavailable")]
    private static partial void LogProbeFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Store available again after {Retries} retries")]
    private static partial void LogStoreRecovered(ILogger logger, int retries);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Store refused a batch of {Records} record(s); splitting it to isolate the records it refuses")]
    private static partial void LogSplitting(ILogger logger, Exception exception, int records);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Store refused user {UserId} ({Position}) {Attempts} time(s) while it answered; dead-lettering it")]
    private static partial void LogRejected(ILogger logger, Exception exception, Guid userId, string position, int attempts);
}
