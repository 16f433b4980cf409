namespace UserStream.Sink.DeadLettering;

/// <summary>
/// The process's one dead-letter producer (idempotent): sends a rejected record, untouched, with the reason
/// to the dead-letter topic, continuing the record's trace. A producer that failed fatally is replaced.
/// A batch's dead letters are sent together by <see cref="SendAllAsync"/>, which retries the ones the broker
/// did not acknowledge with backoff (<c>Sink:Retry</c>) until every one is, health Degraded meanwhile.
/// </summary>
public sealed partial class DeadLetterProducer(
    KafkaClientFactory clients, IOptions<SinkOptions> options, SinkTracing tracing, SinkMetrics metrics, WorkerHealth health,
    TimeProvider time, ILogger<DeadLetterProducer> logger) : IDisposable
{
    public const string Stage = DeadLetterStages.Sink;

    private readonly Lock _gate = new();
    private readonly ResiliencePipeline _pipeline = RetryUntilAcknowledged(options.Value.Retry, metrics, health, logger).ToPipeline(time);
    private IProducer<string, byte[]>? _producer;

    /// <summary>
    /// Sends every record of <paramref name="records"/> (each with its rejection) and completes when the broker
    /// acknowledged all of them; the ones it did not are sent again with backoff, for as long as it takes
    /// (until <paramref name="cancellationToken"/>). Every failure of a round is observed.
    /// </summary>
    public async Task SendAllAsync(IReadOnlyList<SinkRecord> records, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(records);
        var unacknowledged = records.ToList();
        var retried = false;
        try
        {
            await _pipeline.ExecuteAsync(
                async token =>
                {
                    var sends = unacknowledged.Select(r => (Record: r, Send: SendAsync(r, token))).ToList();
                    try
                    {
                        await Task.WhenAll(sends.Select(s => s.Send)).ConfigureAwait(false);
                    }
#pragma warning disable CA1031 // Each send's own outcome is inspected below: every failure is observed, not only the first.
                    catch (Exception) when (!token.IsCancellationRequested)
#pragma warning restore CA1031
                    {
                    }

                    token.ThrowIfCancellationRequested();
                    var failed = sends.Where(s => !s.Send.IsCompletedSuccessfully).ToList();
                    if (failed.Count > 0)
                    {
                        retried = true;
                        var sent = unacknowledged.Count;
                        unacknowledged = [.. failed.Select(f => f.Record)];
                        throw new DeadLettersNotAcknowledgedException(
                            sent, [.. failed.Select(f => f.Send.Exception?.GetBaseException() ?? new OperationCanceledException())]);
                    }
                },
                cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (retried)
            {
                health.WaitOver();
            }
        }

        if (retried)
        {
            LogAcknowledged(logger, records.Count);
        }
    }

    /// <summary>Sends <paramref name="record"/> with its rejection; the task completes when the broker acknowledged it.</summary>
    public async Task SendAsync(SinkRecord record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        var rejection = record.Rejection ?? throw new ArgumentException("The record has no rejection.", nameof(record));
        var message = DeadLetters.For(record.Consumed, rejection, Stage, time.GetUtcNow());
        var topic = options.Value.DeadLetterTopic;

        var previous = Activity.Current;
        using var send = KafkaTracing.StartSend(tracing.Source, topic, message.Key, message.Headers, record.Process?.Context ?? default);
        Activity.Current = previous;
        send?.SetTag("error.type", rejection.Code);
        var producer = Producer();
        try
        {
            await producer.ProduceAsync(topic, message, cancellationToken).ConfigureAwait(false);
        }
        catch (KafkaException e)
        {
            send?.SetStatus(ActivityStatusCode.Error, e.Error.Reason);
            if (e.Error.IsFatal)
            {
                Replace(producer);
            }

            throw;
        }

        metrics.DeadLettered(rejection.Code);
    }

    /// <summary>Sends again, for as long as it takes, the dead letters the broker did not acknowledge; health Degraded meanwhile.</summary>
    private static RetryStrategyOptions RetryUntilAcknowledged(StoreRetryOptions retry, SinkMetrics metrics, WorkerHealth health, ILogger logger)
    {
        var strategy = retry.RetryForever("dead-letter-send");
        strategy.ShouldHandle = args => ValueTask.FromResult(
            args.Outcome.Exception is DeadLettersNotAcknowledgedException && !args.Context.CancellationToken.IsCancellationRequested);
        strategy.OnRetry = args =>
        {
            var failure = (DeadLettersNotAcknowledgedException)args.Outcome.Exception!;
            metrics.DeadLetterRetried();
            health.Waiting($"the dead-letter topic did not acknowledge {failure.Failed} record(s) ({failure.FirstReason}); fetching paused, nothing committed");
            LogNotAcknowledged(logger, failure, failure.Failed, failure.Sent, args.AttemptNumber + 1, args.RetryDelay.TotalMilliseconds);
            return ValueTask.CompletedTask;
        };
        return strategy;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_producer is not null)
            {
                _producer.Flush(TimeSpan.FromSeconds(10));
                _producer.Dispose();
                _producer = null;
            }
        }
    }

    private IProducer<string, byte[]> Producer()
    {
        lock (_gate)
        {
            return _producer ??= clients.CreateProducer(KafkaClientShapes.Idempotent);
        }
    }

    private void Replace(IProducer<string, byte[]> failed)
    {
        lock (_gate)
        {
            if (ReferenceEquals(_producer, failed))
            {
                _producer = null;
            }
        }

        failed.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The dead-letter topic did not acknowledge {Failed} of {Sent} record(s) (attempt {Attempt}); sending them again in {DelayMs} ms; fetching paused, nothing committed")]
    private static partial void LogNotAcknowledged(ILogger logger, Exception exception, int failed, int sent, int attempt, double delayMs);

    [LoggerMessage(Level = LogLevel.Information, Message = "The dead-letter topic acknowledged all {Records} record(s) of the batch")]
    private static partial void LogAcknowledged(ILogger logger, int records);
}

/// <summary>Some dead letters of a batch were not acknowledged by the broker; <see cref="Exception.InnerException"/>s: each send's error.</summary>
public sealed class DeadLettersNotAcknowledgedException : AggregateException
{
    public DeadLettersNotAcknowledgedException(int sent, IReadOnlyList<Exception> failures)
        : base($"{failures.Count} of {sent} dead letter(s) were not acknowledged", failures)
    {
        Sent = sent;
        Failed = failures.Count;
        FirstReason = failures.Count > 0 ? failures[0].Message : "";
    }

    public int Sent { get; }

    public int Failed { get; }

    public string FirstReason { get; }
}
