using System.Diagnostics;
using UserStream.Process.Enrichment;
using UserStream.Streaming.Tracing;

namespace UserStream.Process.Routing;

/// <summary>
/// Turns one users_created record into the one record it becomes: validated and enriched into
/// users_enriched, or rejected into users_dlq with the reason. Each record continues its own trace
/// (the context in its headers), and the record it becomes carries the new context. Never throws.
/// </summary>
public sealed partial class RecordRouter(
    UserValidator validator, StageTelemetry telemetry, IOptions<ProcessOptions> options, ILogger<RecordRouter> logger)
{
    /// <summary>The stage name written into <c>dlq-stage</c>.</summary>
    public const string StageName = DeadLetterStages.Process;

    /// <summary>
    /// Largest value copied into a dead letter or produced as an enriched record; Kafka's default message
    /// limit is 1 MB. A larger original is dead-lettered without its value (the reason says so).
    /// </summary>
    public const int MaxProducedValueBytes = 900 * 1024;

    private readonly ProcessOptions _options = options.Value;

    public RoutedRecord Route(ConsumeResult<string, byte[]> record, DateTimeOffset now)
    {
        using var activity = KafkaTracing.StartProcess(telemetry.Source, record, _options.ConsumerGroup);
        var context = RecordContext.From(record.Message.Headers, record.Message.Timestamp, now);
        var outcome = validator.Validate(record.Message.Key, record.Message.Value, now);
        if (!outcome.IsValid)
        {
            return Reject(record, outcome.Rejection, context, now, activity);
        }

        if (context.RunId is { } runId && (runId.Length > _options.Validation.MaxFieldLength || runId.AsSpan().ContainsAny(FieldReader.ControlCharacters)))
        {
            return Reject(record, new Rejection(DeadLetterCodes.InvalidValue, $"header {PipelineHeaders.RunId} is not a printable id"), context, now, activity);
        }

        byte[] value;
        try
        {
            value = EnrichedUserJson.Serialize(UserEnricher.Enrich(outcome.User, context, now));
        }
#pragma warning disable CA1031 // A defect in the transform must dead-letter the record, not crash-loop the stage.
        catch (Exception e)
#pragma warning restore CA1031
        {
            return Reject(record, new Rejection(DeadLetterCodes.ProcessingFailed, $"transform failed: {e.GetType().Name}: {e.Message}"), context, now, activity);
        }

        if (value.Length > MaxProducedValueBytes)
        {
            return Reject(record, new Rejection(DeadLetterCodes.TooLarge, $"the enriched record would be {value.Length} bytes"), context, now, activity);
        }

        var headers = OutputHeaders(record, context, traced: activity is not null);
        var key = KeyOf(outcome.User.Id, record.Message.Key);
        using (KafkaTracing.StartSend(telemetry.Source, _options.OutputTopic, key, headers))
        {
            return new RoutedRecord(_options.OutputTopic, new Message<string, byte[]> { Key = key, Value = value, Headers = headers }, null, context.IngestedAt);
        }
    }

    /// <summary>
    /// The enriched record's headers: schema version, ingestion time, run and source when known; when this stage does
    /// not trace (<paramref name="traced"/> false: no listener), the record's own trace context passed on, so its trace
    /// still continues downstream (a traced send writes its own).
    /// </summary>
    internal static Headers OutputHeaders(ConsumeResult<string, byte[]> record, RecordContext context, bool traced)
    {
        var headers = new Headers()
            .SetString(PipelineHeaders.SchemaVersion, EnrichedUser.CurrentSchemaVersion.ToString(CultureInfo.InvariantCulture))
            .SetTimestamp(PipelineHeaders.IngestedAt, context.IngestedAt);
        if (context.RunId is not null)
        {
            headers.SetString(PipelineHeaders.RunId, context.RunId);
        }

        if (context.Source is not null)
        {
            headers.SetString(PipelineHeaders.Source, context.Source);
        }

        if (!traced && record.Message.Headers.GetString(PipelineHeaders.TraceParent) is { } traceParent)
        {
            headers.SetString(PipelineHeaders.TraceParent, traceParent);
            if (record.Message.Headers.GetString(PipelineHeaders.TraceState) is { } traceState)
            {
                headers.SetString(PipelineHeaders.TraceState, traceState);
            }
        }

        return headers;
    }

    /// <summary>The id as the output's key (<c>D</c> form): the record's own key when it is written so already (as it normally is).</summary>
    internal static string KeyOf(Guid id, string? key)
    {
        Span<char> text = stackalloc char[36];
        return id.TryFormat(text, out var length, "D") && length == text.Length && key is not null && text.SequenceEqual(key)
            ? key
            : id.ToString("D");
    }

    private RoutedRecord Reject(
        ConsumeResult<string, byte[]> record, Rejection rejection, RecordContext context, DateTimeOffset now, Activity? activity)
    {
        var valueLength = record.Message.Value?.Length ?? 0;
        if (valueLength > MaxProducedValueBytes)
        {
            rejection = rejection with { Reason = $"{rejection.Reason} (the original value of {valueLength} bytes is too large to copy here)" };
        }

        var deadLetter = DeadLetters.For(record, rejection, StageName, now);
        if (valueLength > MaxProducedValueBytes)
        {
            deadLetter.Value = [];
        }

        activity?.SetStatus(ActivityStatusCode.Error, rejection.Code);
        activity?.SetTag("userstream.rejection.code", rejection.Code);
        LogRejected(logger, record.Topic, record.Partition.Value, record.Offset.Value, rejection.Code, rejection.Reason);
        using (KafkaTracing.StartSend(telemetry.Source, _options.DeadLetterTopic, deadLetter.Key, deadLetter.Headers))
        {
            return new RoutedRecord(_options.DeadLetterTopic, deadLetter, rejection.Code, context.IngestedAt);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Rejected {Topic} [{Partition}] @{Offset}: {Code}: {Reason}")]
    private static partial void LogRejected(ILogger logger, string topic, int partition, long offset, string code, string reason);
}
