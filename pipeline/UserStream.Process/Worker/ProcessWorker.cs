using System.Diagnostics;

namespace UserStream.Process.Worker;

/// <summary>
/// The stage's loop: batch after batch, route every record (enriched or dead letter) and commit the batch
/// exactly once through a <see cref="TransactionalSession"/>. A failed run (fenced producer, broker gone
/// for longer than the operation timeout...) is restarted by <see cref="StreamingWorker"/> with backoff,
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

    /// <summary>Batches of at least this many records are routed on all cores.</summary>
    private const int ParallelRoutingFrom = 64;

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

            var batch = session.NextBatch(stoppingToken);
            if (batch.Count == 0)
            {
                continue;
            }

            var records = Route(batch);

            if (session.Commit(batch, records))
            {
                abortsInARow = 0;
                Health.Progressed();
                metrics.BatchCommitted(records, time.GetUtcNow());
                var rejected = records.Count(r => r.IsRejected);
                LogCommitted(logger, session.TransactionalId, batch.Count, rejected);
            }
            else
            {
                // Redone from the committed offsets; pause a little longer each time the redo fails too.
                metrics.TransactionAborted();
                abortsInARow++;
                stoppingToken.WaitHandle.WaitOne(Backoff.After(abortsInARow, FirstAbortPause, LongestAbortPause));
            }
        }

        session.Close();
        LogStopped(logger, session.TransactionalId);
    }

    /// <summary>
    /// Validates, enriches and routes the batch, record by record in order; a large batch (at full speed) is spread
    /// over the cores, each record still routed on its own and kept in its place, so the transaction produces them in
    /// the order they were consumed. A small one (low load) stays on this thread: no hand-over adds to its latency.
    /// </summary>
    private RoutedRecord[] Route(MessageBatch batch)
    {
        var records = new RoutedRecord[batch.Count];
        if (batch.Count < ParallelRoutingFrom || Environment.ProcessorCount == 1)
        {
            for (var i = 0; i < batch.Count; i++)
            {
                records[i] = router.Route(batch[i], time.GetUtcNow());
            }
        }
        else
        {
            Parallel.For(0, batch.Count, i => records[i] = router.Route(batch[i], time.GetUtcNow()));
        }

        return records;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{TransactionalId} processing group {Group}: {Input} -> {Output}, rejects -> {DeadLetter}")]
    private static partial void LogStarted(ILogger logger, string transactionalId, string group, string input, string output, string deadLetter);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{TransactionalId} committed a batch of {Count} records ({Rejected} dead-lettered)")]
    private static partial void LogCommitted(ILogger logger, string transactionalId, int count, int rejected);

    [LoggerMessage(Level = LogLevel.Information, Message = "{TransactionalId} stopped after committing its last batch")]
    private static partial void LogStopped(ILogger logger, string transactionalId);
}
