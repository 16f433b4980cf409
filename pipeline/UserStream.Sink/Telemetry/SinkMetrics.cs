using System.Diagnostics.Metrics;

namespace UserStream.Sink.Telemetry;

/// <summary>The sink's instruments, on the stage's <c>UserStream.Sink</c> meter.</summary>
public sealed class SinkMetrics
{
    public const string RowsWrittenName = "userstream.sink.rows.written";
    private readonly Counter<long> _rowsWritten;

    public const string BatchSizeName = "userstream.sink.batch.size";
    private readonly Histogram<int> _batchSize;

    public const string WriteDurationName = "userstream.sink.write.duration";
    private readonly Histogram<double> _writeDuration;

    public const string RetriesName = "userstream.sink.write.retries";
    private readonly Counter<long> _retries;

    public const string DeadLetteredName = "userstream.sink.dead_lettered";
    private readonly Counter<long> _deadLettered;

    public const string DeadLetterRetriesName = "userstream.sink.dead_letter.retries";
    private readonly Counter<long> _deadLetterRetries;

    public const string ConsumerLagName = "userstream.sink.consumer.lag";
    private volatile IReadOnlyList<(string Topic, int Partition, long Lag)> _lag = [];

    public const string WorkerRestartsName = "userstream.sink.worker.restarts";
    public const string WorkerStallsName = "userstream.sink.worker.stalls";

    /// <summary>The sink worker's instruments (<see cref="Streaming.Hosting.WorkerHealth"/>).</summary>
    public static readonly Streaming.Hosting.WorkerMetricNames Worker = new(WorkerRestartsName, WorkerStallsName);

    public SinkMetrics(StageTelemetry telemetry)
    {
        ArgumentNullException.ThrowIfNull(telemetry);
        var meter = telemetry.Meter;
        _rowsWritten = meter.CreateCounter<long>(RowsWrittenName, "{row}", "Records the store confirmed (each version written counts once).");
        _batchSize = meter.CreateHistogram<int>(BatchSizeName, "{record}", "Records per consumed micro-batch.");
        _writeDuration = meter.CreateHistogram<double>(WriteDurationName, "s", "Time from the first write attempt of a batch to the store's confirmation, retries included.");
        _retries = meter.CreateCounter<long>(RetriesName, "{retry}", "Write attempts repeated after a transient store failure.");
        _deadLettered = meter.CreateCounter<long>(DeadLetteredName, "{record}", "Records sent to the dead-letter topic, by reason.");
        _deadLetterRetries = meter.CreateCounter<long>(DeadLetterRetriesName, "{retry}", "Dead-letter sends repeated because the broker did not acknowledge them.");
        meter.CreateObservableGauge(ConsumerLagName, ObserveLag, "{record}", "Records in the topic not yet consumed (high watermark - position), per partition.");
    }

    public void BatchConsumed(int records) => _batchSize.Record(records);

    public void RowsWritten(int rows) => _rowsWritten.Add(rows);

    public void BatchWritten(TimeSpan elapsed) => _writeDuration.Record(elapsed.TotalSeconds);

    public void Retried() => _retries.Add(1);

    public void DeadLetterRetried() => _deadLetterRetries.Add(1);

    public void DeadLettered(string reason) => _deadLettered.Add(1, new KeyValuePair<string, object?>("reason", reason));

    /// <summary>Replaces the lag reported per partition (taken on the consumer's thread).</summary>
    public void ReportLag(IReadOnlyList<(string Topic, int Partition, long Lag)> lag) => _lag = lag;

    private IEnumerable<Measurement<long>> ObserveLag() =>
        _lag.Select(p => new Measurement<long>(
            p.Lag,
            new KeyValuePair<string, object?>("messaging.destination.name", p.Topic),
            new KeyValuePair<string, object?>("messaging.destination.partition.id", p.Partition.ToString(CultureInfo.InvariantCulture))));
}
