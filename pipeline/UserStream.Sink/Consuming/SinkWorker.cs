namespace UserStream.Sink.Consuming;

/// <summary>
/// The sink's hosted consume loop: once the store's schema is ready, runs a <see cref="SinkLoop"/> with a
/// fresh consumer; a failed run is restarted with backoff by <see cref="StreamingWorker"/> (from the last
/// committed offsets, so nothing unwritten is skipped). Stopping drains the batch in hand, for at most
/// <see cref="SinkOptions.DrainTimeout"/>.
/// </summary>
public sealed class SinkWorker(
    StoreReadiness readiness,
    KafkaClientFactory clients,
    IOptions<SinkOptions> options,
    BatchWriter writer,
    DeadLetterProducer deadLetters,
    SinkTracing tracing,
    SinkMetrics metrics,
    WorkerHealth health,
    ILogger<SinkWorker> logger) : StreamingWorker(logger, health)
{
    public const string Name = "sink";

    protected override string WorkerName => Name;

    protected override void Run(CancellationToken stoppingToken)
    {
        readiness.WaitAsync(stoppingToken).GetAwaiter().GetResult();

        using var drain = new CancellationTokenSource();
        using var stopping = stoppingToken.Register(() => drain.CancelAfter(options.Value.DrainTimeout));
        using var loop = new SinkLoop(clients, options.Value, writer, deadLetters, tracing, metrics, Health, logger);
        loop.Run(stoppingToken, drain.Token);
    }
}
