namespace UserStream.Streaming.Tracing;

/// <summary>
/// W3C trace context in Kafka headers (<c>traceparent</c>, <c>tracestate</c>), and messaging spans that
/// follow OpenTelemetry's semantic conventions. The pipeline's libraries are the only code that injects
/// trace context into records: the Aspire Kafka integration's own tracing is switched off.
/// </summary>
public static class KafkaTracing
{
    /// <summary>Writes <paramref name="activity"/>'s context into <paramref name="headers"/>, replacing any.</summary>
    public static Headers Inject(Activity? activity, Headers headers)
    {
        if (activity is null || activity.IdFormat != ActivityIdFormat.W3C)
        {
            return headers;
        }

        headers.SetString(PipelineHeaders.TraceParent, activity.Id!);
        if (!string.IsNullOrEmpty(activity.TraceStateString))
        {
            headers.SetString(PipelineHeaders.TraceState, activity.TraceStateString);
        }
        else
        {
            headers.Remove(PipelineHeaders.TraceState);
        }

        return headers;
    }

    /// <summary>The trace context a record carries, or default when it carries none (or a malformed one).</summary>
    public static ActivityContext Extract(Headers? headers)
    {
        var traceParent = headers.GetString(PipelineHeaders.TraceParent);
        return traceParent is not null
            && ActivityContext.TryParse(traceParent, headers.GetString(PipelineHeaders.TraceState), isRemote: true, out var context)
            ? context
            : default;
    }

    /// <summary>
    /// Starts a <c>process {topic}</c> consumer span that continues the record's trace (its parent is the
    /// context in the record's headers).
    /// </summary>
    public static Activity? StartProcess(ActivitySource source, ConsumeResult<string, byte[]> record, string? consumerGroup = null)
    {
        // Nobody listens: no activity would start, so nothing to read from the headers or to name (the common case).
        if (!source.HasListeners())
        {
            return null;
        }

        var activity = source.StartActivity($"process {record.Topic}", ActivityKind.Consumer, Extract(record.Message.Headers));
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("messaging.system", "kafka");
            activity.SetTag("messaging.operation.type", "process");
            activity.SetTag("messaging.destination.name", record.Topic);
            activity.SetTag("messaging.destination.partition.id", record.Partition.Value.ToString(System.Globalization.CultureInfo.InvariantCulture));
            activity.SetTag("messaging.kafka.offset", record.Offset.Value);
            activity.SetTag("messaging.kafka.message.key", record.Message.Key);
            if (consumerGroup is not null)
            {
                activity.SetTag("messaging.consumer.group.name", consumerGroup);
            }
        }

        return activity;
    }

    /// <summary>
    /// Starts a <c>send {topic}</c> producer span under the current activity (or <paramref name="parent"/>)
    /// and writes its context into <paramref name="headers"/> so that the consumer continues it.
    /// </summary>
    public static Activity? StartSend(ActivitySource source, string topic, string? key, Headers headers, ActivityContext parent = default)
    {
        var activity = source.HasListeners() ? source.StartActivity($"send {topic}", ActivityKind.Producer, parent) : null;
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("messaging.system", "kafka");
            activity.SetTag("messaging.operation.type", "send");
            activity.SetTag("messaging.destination.name", topic);
            activity.SetTag("messaging.kafka.message.key", key);
        }

        Inject(activity ?? Activity.Current, headers);
        return activity;
    }
}
