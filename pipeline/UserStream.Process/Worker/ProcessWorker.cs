using System.Diagnostics;

namespace UserStream.Process.Worker;

/// <summary>
/// The stage's loop: batch after batch, route every record (enriched or dead letter) and commit the batch
/// exactly once through a <see cref="TransactionalSession"/>. While a batch's transaction commits, the next batch
/// is consumed and routed; its transaction starts once the one before has ended. A failed run (fenced producer,
/// broker gone for longer than the operation timeout...) is restarted by <see cref="StreamingWorker"/> with backoff,
/// with new clients resuming from the committed offsets. Stopping finishes and commits the batch in hand.
/// </summary>
internal sealed partial class ProcessWorker(
    KafkaClientFactory clients,
    RecordRouter router,
    ProcessMetrics metrics,
    TimeProvider time,
    IOptions<ProcessOptions> options,
    WorkerHealth health,
    ILogger<ProcessWorker> logger) : StreamingWorker(logger, health)
{
    public const string Name = "processor";

    private static readonly TimeSpan FirstAbortPause = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan LongestAbortPause = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan LagReportInterval = TimeSpan.FromSeconds(1);

    protected override string WorkerName => Name;

    protected override void Run(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        using var session = new TransactionalSession(clients, settings, logger);
        LogStarted(logger, session.TransactionalId, settings.ConsumerGroup, settings.InputTopic, settings.OutputTopic, settings.DeadLetterTopic);
        var abortsInARow = 0;
        var lastLagReport = 0L;
        while (!stoppingToken.IsCancellationRequested)
        {
            if (Stopwatch.GetElapsedTime(lastLagReport) >= LagReportInterval)
            {
                lastLagReport = Stopwatch.GetTimestamp();
                Health.Lag(session.Lag());
            }

            // Each record is validated, enriched and routed as it is consumed, while the rest of the batch is fetched.
            var (batch, records) = session.NextBatch(record => router.Route(record, time.GetUtcNow()), stoppingToken);

            // The previous batch's transaction has been committing meanwhile; this one's starts when it has ended.
            var settling = session.InFlight;
            if (!session.Settle(consumedSince: batch))
            {
                // Both batches are redone from the committed offsets; pause a little longer each time the redo fails too.
                metrics.TransactionAborted();
                abortsInARow++;
                stoppingToken.WaitHandle.WaitOne(Backoff.After(abortsInARow, FirstAbortPause, LongestAbortPause));
                continue;
            }

            if (settling)
            {
                abortsInARow = 0;
            }

            if (batch.Count > 0)
            {
                var transactionalId = session.TransactionalId;
                session.StartCommit(batch, records, () =>
                {
                    Health.Progressed();
                    metrics.BatchCommitted(records, time.GetUtcNow());
                    var rejected = records.Count(r => r.IsRejected);
                    LogCommitted(logger, transactionalId, batch.Count, rejected);
                });
            }
        }

        // The last batch's transaction (drained on stopping); if it aborted, the partitions' next owner redoes it.
        if (!session.Settle())
        {
            metrics.TransactionAborted();
        }

        session.Close();
        LogStopped(logger, session.TransactionalId);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{TransactionalId} processing group {Group}: {Input} -> {Output}, rejects -> {DeadLetter}")]
    private static partial void LogStarted(ILogger logger, string transactionalId, string group, string input, string output, string deadLetter);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{TransactionalId} committed a batch of {Count} records ({Rejected} dead-lettered)")]
    private static partial void LogCommitted(ILogger logger, string transactionalId, int count, int rejected);

    [LoggerMessage(Level = LogLevel.Information, Message = "{TransactionalId} stopped after committing its last batch")]
    private static partial void LogStopped(ILogger logger, string transactionalId);
}
