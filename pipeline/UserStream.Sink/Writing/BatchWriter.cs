using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using UserStream.Contracts;
using UserStream.Sink.Consuming;
using UserStream.Sink.Store;
using UserStream.Sink.Telemetry;
using UserStream.Streaming.Kafka;

namespace UserStream.Sink.Writing;

/// <summary>
/// Gets a batch's decoded records into the store: one version per id (the latest ingested), written in one
/// call; while the store fails transiently, retried with exponential backoff (bounded) for as long as it
/// takes; when the store rejects the batch permanently, split in halves until the records it refuses are
/// isolated, each of which is tried alone a bounded number of times and then marked rejected, while the
/// others land. Afterwards every record is Written, Superseded, Rejected or Dropped (partition revoked).
/// </summary>
public sealed partial class BatchWriter(
    IUserStore store, IOptions<SinkOptions> options, SinkTracing tracing, SinkMetrics metrics, TimeProvider time,
    ILogger<BatchWriter> logger)
{
    public const string StoreRejected = "store_rejected";
    public const string Table = "created_users";

    private readonly IUserStore _store = store;
    private readonly StoreRetryOptions _retry = options.Value.Retry;
    private readonly SinkMetrics _metrics = metrics;
    private readonly ILogger _logger = logger;

    /// <summary>Writes the pending records of <paramref name="records"/>. Blocking: call it from the consumer's thread.</summary>
    public void Write(IReadOnlyList<SinkRecord> records, OutageWait wait, CancellationToken cancellationToken)
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
        var startedAt = time.GetUtcNow();
        var started = Stopwatch.GetTimestamp();
        using var batchSpan = tracing.StartBatchWrite(latest, Table);
        var failure = attempt.UntilDoneOrRejected(latest);
        if (failure is not null)
        {
            batchSpan?.AddEvent(new ActivityEvent("split", tags: new ActivityTagsCollection { ["exception.message"] = failure.Message }));
            LogSplitting(_logger, failure, latest.Count);
            attempt.Isolate(latest, failure);
        }

        var confirmedAt = time.GetUtcNow();
        _metrics.BatchWritten(Stopwatch.GetElapsedTime(started));
        batchSpan?.SetTag("userstream.sink.retries", attempt.Retries);
        foreach (var record in latest.Where(r => r.State == SinkRecordState.Written))
        {
            tracing.RecordWritten(record, batchSpan, startedAt, confirmedAt, Table);
        }
    }

    private static string Describe(Exception exception) => $"{exception.GetType().Name}: {exception.Message}";

    /// <summary>The attempts for one batch: its backoff state and retry count.</summary>
    private sealed class Attempt(BatchWriter writer, OutageWait wait, CancellationToken cancellationToken)
    {
        private readonly StoreRetryOptions _retry = writer._retry;
        private TimeSpan _delay = writer._retry.InitialDelay;
        private bool _outage;

        public int Retries { get; private set; }

        /// <summary>
        /// Writes the still-pending <paramref name="group"/>, riding out transient failures. Returns null when
        /// written (or nothing was left to write), else the permanent failure.
        /// </summary>
        public Exception? UntilDoneOrRejected(IReadOnlyList<SinkRecord> group)
        {
            while (true)
            {
                // A revocation while waiting drops records: write only what is still ours.
                var live = group.Where(r => r.State == SinkRecordState.Pending).ToList();
                if (live.Count == 0)
                {
                    return null;
                }

                try
                {
                    writer._store.WriteAsync([.. live.Select(r => r.User!)], cancellationToken).GetAwaiter().GetResult();
                }
                catch (Exception e) when (!cancellationToken.IsCancellationRequested && writer._store.IsTransient(e))
                {
                    Retries++;
                    writer._metrics.Retried();
                    LogStoreUnavailable(writer._logger, e, live.Count, Retries, _delay.TotalMilliseconds);
                    _outage = true;
                    wait(_delay, cancellationToken);
                    _delay = TimeSpan.FromTicks(Math.Min(_delay.Ticks * 2, _retry.MaxDelay.Ticks));
                    continue;
                }
                catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is not OperationCanceledException)
                {
                    return e;
                }
                catch (Exception e) when (cancellationToken.IsCancellationRequested && e is not OperationCanceledException)
                {
                    throw new OperationCanceledException(
                        "Stopped before the store confirmed the batch; it stays uncommitted and is redelivered.", e, cancellationToken);
                }

                foreach (var record in live)
                {
                    record.State = SinkRecordState.Written;
                }

                writer._metrics.RowsWritten(live.Count);
                if (_outage)
                {
                    _outage = false;
                    LogStoreRecovered(writer._logger, Retries);
                }

                _delay = _retry.InitialDelay;
                return null;
            }
        }

        /// <summary>
        /// <paramref name="group"/> was refused as a whole with <paramref name="failure"/>: find the records the
        /// store refuses by halving, write the rest, and reject each refused record after its own attempts.
        /// </summary>
        public void Isolate(IReadOnlyList<SinkRecord> group, Exception failure)
        {
            var live = group.Where(r => r.State == SinkRecordState.Pending).ToList();
            if (live.Count == 0)
            {
                return;
            }

            if (live.Count == 1)
            {
                TryAlone(live[0], failure);
                return;
            }

            var half = live.Count / 2;
            foreach (var part in new[] { live[..half], live[half..] })
            {
                if (UntilDoneOrRejected(part) is { } partFailure)
                {
                    Isolate(part, partFailure);
                }
            }
        }

        private void TryAlone(SinkRecord record, Exception failure)
        {
            var failures = 1;
            while (failures < _retry.MaxAttemptsPerRecord)
            {
                // A short pause only: the store is up, it just refuses this record.
                if (cancellationToken.WaitHandle.WaitOne(_retry.InitialDelay))
                {
                    cancellationToken.ThrowIfCancellationRequested();
                }

                if (UntilDoneOrRejected([record]) is not { } again)
                {
                    return;
                }

                failure = again;
                failures++;
            }

            if (record.State != SinkRecordState.Pending)
            {
                return;
            }

            record.State = SinkRecordState.Rejected;
            record.Rejection = new Rejection(StoreRejected, $"The store refused this record {failures} time(s): {Describe(failure)}");
            LogRejected(writer._logger, failure, record.User!.Id, record.Consumed.TopicPartitionOffset.ToString(), failures);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Store unavailable writing {Records} record(s) (retry {Retry}); next attempt in {DelayMs} ms; fetching paused, nothing committed")]
    private static partial void LogStoreUnavailable(ILogger logger, Exception exception, int records, int retry, double delayMs);

    [LoggerMessage(Level = LogLevel.Information, Message = "Store available again after {Retries} retries")]
    private static partial void LogStoreRecovered(ILogger logger, int retries);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Store refused a batch of {Records} record(s); splitting it to isolate the records it refuses")]
    private static partial void LogSplitting(ILogger logger, Exception exception, int records);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Store refused user {UserId} ({Position}) {Attempts} time(s); dead-lettering it")]
    private static partial void LogRejected(ILogger logger, Exception exception, Guid userId, string position, int attempts);
}
