using System.Diagnostics.Metrics;

namespace UserStream.Process.Worker;

/// <summary>
/// The stage's instruments, on its Meter <c>UserStream.Process</c>. Records are counted when their
/// transaction commits, so an aborted and redone batch is counted once.
/// </summary>
internal sealed class ProcessMetrics
{
    public const string ReasonTag = "reason";

    public const string RecordsInName = "userstream.process.records.in";
    private readonly Counter<long> _recordsIn;

    public const string RecordsOutName = "userstream.process.records.out";
    private readonly Counter<long> _recordsOut;

    public const string RecordsRejectedName = "userstream.process.records.rejected";
    private readonly Counter<long> _recordsRejected;

    public const string LatencyName = "userstream.process.latency";
    private readonly Histogram<double> _latency;

    public const string BatchSizeName = "userstream.process.batch.size";
    private readonly Histogram<int> _batchSize;

    public const string TransactionsCommittedName = "userstream.process.transactions.committed";
    private readonly Counter<long> _committed;

    public const string TransactionsAbortedName = "userstream.process.transactions.aborted";
    private readonly Counter<long> _aborted;

    public const string WorkerRestartsName = "userstream.process.worker.restarts";
    public const string WorkerStallsName = "userstream.process.worker.stalls";

    /// <summary>The processor worker's instruments (<see cref="Streaming.Hosting.WorkerHealth"/>).</summary>
    public static readonly Streaming.Hosting.WorkerMetricNames Worker = new(WorkerRestartsName, WorkerStallsName);

    public ProcessMetrics(StageTelemetry telemetry)
    {
        var meter = telemetry.Meter;
        _recordsIn = meter.CreateCounter<long>(RecordsInName, "{record}", "users_created records processed (committed)");
        _recordsOut = meter.CreateCounter<long>(RecordsOutName, "{record}", "users_enriched records produced (committed)");
        _recordsRejected = meter.CreateCounter<long>(RecordsRejectedName, "{record}", "Records dead-lettered, by reason code (committed)");
        _latency = meter.CreateHistogram<double>(LatencyName, "ms", "From ingestion (userstream-ingested-at) to the enriched record's commit");
        _batchSize = meter.CreateHistogram<int>(BatchSizeName, "{record}", "Records per transaction");
        _committed = meter.CreateCounter<long>(TransactionsCommittedName, "{transaction}", "Transactions committed");
        _aborted = meter.CreateCounter<long>(TransactionsAbortedName, "{transaction}", "Transactions aborted (their batch is redone)");
    }

    public void BatchCommitted(IReadOnlyList<RoutedRecord> records, DateTimeOffset committedAt)
    {
        _committed.Add(1);
        _batchSize.Record(records.Count);
        _recordsIn.Add(records.Count);
        foreach (var record in records)
        {
            if (record.RejectionCode is { } code)
            {
                _recordsRejected.Add(1, new KeyValuePair<string, object?>(ReasonTag, code));
            }
            else
            {
                _recordsOut.Add(1);
                _latency.Record(Math.Max(0, (committedAt - record.IngestedAt).TotalMilliseconds));
            }
        }
    }

    public void TransactionAborted() => _aborted.Add(1);
}
