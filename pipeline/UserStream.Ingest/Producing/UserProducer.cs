using UserStream.Streaming.Kafka;
using UserStream.Streaming.Tracing;

namespace UserStream.Ingest.Producing;

/// <summary>What every record of a run carries: the run's id, its source and its trace.</summary>
internal sealed record RunStamp(Guid RunId, string Source, ActivityContext Trace)
{
    public string RunIdText { get; } = RunId.ToString();
}

/// <summary>
/// The process's one idempotent producer (acks=all) of raw users to the topic: each record keyed by the
/// user's login.uuid, its value the fetched bytes untouched, with the run id, source, ingestion time and
/// trace context (a <c>send</c> span per record, child of the run's span) in its headers. Delivery reports
/// go to the run's <see cref="RunTally"/>. A producer that hit a fatal error is replaced before the next run.
/// </summary>
internal sealed partial class UserProducer : IDisposable
{

    private readonly KafkaClientFactory _factory;
    private readonly StageTelemetry _telemetry;
    private readonly IngestMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ResiliencePipeline _queueFull;
    private readonly ILogger<UserProducer> _logger;
    private readonly Lock _lock = new();
    private IProducer<string, byte[]>? _producer;
    private volatile bool _fatal;

    public UserProducer(
        KafkaClientFactory factory, StageTelemetry telemetry, IngestMetrics metrics, TimeProvider time, ILogger<UserProducer> logger)
    {
        _factory = factory;
        _telemetry = telemetry;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        _queueFull = Backoff.WhileLocalQueueFull("ingest-produce", TimeSpan.FromMilliseconds(5)).ToPipeline(time);
    }

    /// <summary>The producer for the next run: the current one, or a new one if there is none or it failed fatally.</summary>
    public IProducer<string, byte[]> ForRun()
    {
        lock (_lock)
        {
            if (_producer is not null && !_fatal)
            {
                return _producer;
            }

            if (_producer is not null)
            {
                LogReplacingProducer(_logger);
                _producer.Dispose();
            }

            _fatal = false;
            _producer = _factory.CreateProducer(KafkaClientShapes.Idempotent, builder => builder
                .SetErrorHandler((_, error) => OnError(error))
                .SetLogHandler((_, message) => OnLog(message)));
            return _producer;
        }
    }

    /// <summary>
    /// Hands one user to <paramref name="producer"/>; its delivery report updates <paramref name="tally"/>.
    /// Waits (asynchronously) while the local queue is full. If <paramref name="cancellationToken"/> ends
    /// the wait, the record counts as not delivered.
    /// </summary>
    public async ValueTask ProduceAsync(
        IProducer<string, byte[]> producer, string topic, FetchedUser user, RunStamp stamp, RunTally tally, CancellationToken cancellationToken)
    {
        var headers = new Headers()
            .SetString(PipelineHeaders.RunId, stamp.RunIdText)
            .SetString(PipelineHeaders.Source, stamp.Source)
            .SetTimestamp(PipelineHeaders.IngestedAt, _time.GetUtcNow());
        var previous = Activity.Current;
        var send = KafkaTracing.StartSend(_telemetry.Source, topic, user.Key, headers, stamp.Trace);
        Activity.Current = previous;

        var message = new Message<string, byte[]> { Key = user.Key!, Value = user.Json, Headers = headers };
        if (user.Key is null)
        {
            tally.WithoutKey();
            _metrics.WithoutKey(stamp.Source);
        }

        tally.Dispatched();
        Action<DeliveryReport<string, byte[]>> delivered = report => OnDelivery(report, send, tally, stamp.Source);
        try
        {
            try
            {
                producer.Produce(topic, message, delivered);
            }
            catch (ProduceException<string, byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
            {
                // The local queue drains as the brokers acknowledge: try again until there is room (off the common path).
                await _queueFull.ExecuteAsync(
                    static (state, _) =>
                    {
                        state.Producer.Produce(state.Topic, state.Message, state.Delivered);
                        return ValueTask.CompletedTask;
                    },
                    (Producer: producer, Topic: topic, Message: message, Delivered: delivered),
                    cancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
            Fail(tally, send, stamp.Source, "local queue full when the run was stopped", "Local_QueueFull");
        }
        catch (KafkaException e)
        {
            Fail(tally, send, stamp.Source, e.Error.Reason, e.Error.Code.ToString());
        }
    }

    private void Fail(RunTally tally, Activity? send, string source, string reason, string code)
    {
        tally.NotDelivered(reason, dispatched: true);
        _metrics.DeliveryFailed(source, code);
        send?.SetStatus(ActivityStatusCode.Error, reason);
        StopSpan(send);
    }

    private void OnDelivery(DeliveryReport<string, byte[]> report, Activity? send, RunTally tally, string source)
    {
        if (report.Error.IsError)
        {
            Fail(tally, send, source, report.Error.Reason, report.Error.Code.ToString());
            return;
        }

        tally.Acknowledged();
        _metrics.Produced(source);
        if (send is not null)
        {
            send.SetTag("messaging.destination.partition.id", report.Partition.Value.ToString(CultureInfo.InvariantCulture));
            send.SetTag("messaging.kafka.offset", report.Offset.Value);
            StopSpan(send);
        }
    }

    /// <summary>Ends a span on the delivery thread without leaving it as that thread's current activity.</summary>
    private static void StopSpan(Activity? span)
    {
        if (span is null)
        {
            return;
        }

        var current = Activity.Current;
        span.Stop();
        Activity.Current = current;
    }

    private void OnError(Error error)
    {
        if (error.IsFatal)
        {
            _fatal = true;
            LogFatal(_logger, error.Code.ToString(), error.Reason);
        }
        else
        {
            LogTransient(_logger, error.Code.ToString(), error.Reason);
        }
    }

    private void OnLog(LogMessage message)
    {
        if (message.Level <= SyslogLevel.Warning)
        {
            LogLibrdkafka(_logger, message.Facility, message.Message);
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (_producer is null)
            {
                return;
            }

            try
            {
                _producer.Flush(TimeSpan.FromSeconds(5));
            }
            catch (KafkaException e)
            {
                LogTransient(_logger, e.Error.Code.ToString(), e.Error.Reason);
            }

            _producer.Dispose();
            _producer = null;
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Producer failed fatally ({Code}: {Reason}); it is replaced before the next run")]
    private static partial void LogFatal(ILogger logger, string code, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Producer error {Code}: {Reason}")]
    private static partial void LogTransient(ILogger logger, string code, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "librdkafka {Facility}: {Message}")]
    private static partial void LogLibrdkafka(ILogger logger, string facility, string message);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Replacing the producer after a fatal error")]
    private static partial void LogReplacingProducer(ILogger logger);
}
