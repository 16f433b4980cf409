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
/// to the dead-letter topic, continuing the record's trace.
/// </summary>
public sealed class DeadLetterProducer(
    KafkaClientFactory clients, IOptions<SinkOptions> options, SinkTracing tracing, SinkMetrics metrics, TimeProvider time)
    : IDisposable
{
    public const string Stage = "sink";

    private readonly Lazy<IProducer<string, byte[]>> _producer = new(() => clients.CreateProducer(KafkaClientShapes.Idempotent));

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
        try
        {
            await _producer.Value.ProduceAsync(topic, message, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            send?.SetStatus(ActivityStatusCode.Error, e.Message);
            throw;
        }

        metrics.DeadLettered(rejection.Code);
    }

    public void Dispose()
    {
        if (_producer.IsValueCreated)
        {
            _producer.Value.Flush(TimeSpan.FromSeconds(10));
            _producer.Value.Dispose();
        }
    }
}
