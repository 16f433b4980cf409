using System.Diagnostics;
using Confluent.Kafka;
using Microsoft.Extensions.Options;
using UserStream.Sink.Consuming;
using UserStream.Sink.Telemetry;
using UserStream.Streaming.Kafka;
using UserStream.Streaming.Tracing;

namespace UserStream.Sink.DeadLettering;

/// <summary>
/// The process's one dead-letter producer (idempotent): sends a rejected record, untouched, with the reason
/// to the dead-letter topic, continuing the record's trace. A producer that failed fatally is replaced.
/// </summary>
public sealed class DeadLetterProducer(
    KafkaClientFactory clients, IOptions<SinkOptions> options, SinkTracing tracing, SinkMetrics metrics, TimeProvider time)
    : IDisposable
{
    public const string Stage = "sink";

    private readonly Lock _gate = new();
    private IProducer<string, byte[]>? _producer;

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
}
