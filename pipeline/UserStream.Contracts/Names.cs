namespace UserStream.Contracts;

/// <summary>Kafka topics of the pipeline, in flow order.</summary>
public static class Topics
{
    /// <summary>Raw randomuser.me user objects, key = login.uuid. Written by the ingestor.</summary>
    public const string UsersCreated = "users_created";

    /// <summary>Validated, transformed and enriched users (<see cref="EnrichedUser"/>), key = id. Written by the processor.</summary>
    public const string UsersEnriched = "users_enriched";

    /// <summary>Rejected records: the original bytes untouched, with the reason in <see cref="DeadLetterHeaders"/>.</summary>
    public const string DeadLetter = "users_dlq";

    /// <summary>
    /// Compacted: one marker per dead letter replayed, key = its position (<c>{topic}/{partition}/{offset}</c>),
    /// written in the same transaction as the replayed record. The replayer's progress: what it holds is never sent again.
    /// </summary>
    public const string DeadLetterReplays = "users_dlq_replays";
}

/// <summary>Names of the connections and services the stages resolve (Aspire resource names).</summary>
public static class ResourceNames
{
    public const string Kafka = "kafka";
    public const string PipelineDatabase = "pipeline-db";
    public const string Cassandra = "cassandra";
    public const string RandomUser = "randomuser";
    public const string Ingestor = "ingestor";
    public const string Processor = "processor";
    public const string Sink = "sink";

    /// <summary>The AppHost's secret parameter holding the API key of the services' mutating endpoints.</summary>
    public const string ApiKey = "api-key";
}

/// <summary>The API key that the services' mutating endpoints require when one is configured.</summary>
public static class ApiKeys
{
    /// <summary>The request header carrying it.</summary>
    public const string Header = "X-Api-Key";

    /// <summary>The services' configuration key holding it (environment variable <c>Api__Key</c>).</summary>
    public const string ConfigurationKey = "Api:Key";
}

/// <summary>Headers every pipeline record carries.</summary>
public static class PipelineHeaders
{
    /// <summary>W3C trace context (https://www.w3.org/TR/trace-context/).</summary>
    public const string TraceParent = "traceparent";
    public const string TraceState = "tracestate";

    /// <summary>Id of the ingestion run that fetched the user.</summary>
    public const string RunId = "userstream-run-id";

    /// <summary>Where the user came from: <c>randomuser</c> or <c>generator</c>.</summary>
    public const string Source = "userstream-source";

    /// <summary>Ingestion time, ISO-8601 round-trip format (UTC).</summary>
    public const string IngestedAt = "userstream-ingested-at";

    /// <summary>Version of the value's schema (users_enriched).</summary>
    public const string SchemaVersion = "userstream-schema-version";
}

/// <summary>Headers a dead-letter record carries besides the original ones.</summary>
public static class DeadLetterHeaders
{
    public const string ErrorCode = "dlq-error-code";
    public const string Reason = "dlq-reason";
    public const string Stage = "dlq-stage";
    public const string SourceTopic = "dlq-source-topic";
    public const string SourcePartition = "dlq-source-partition";
    public const string SourceOffset = "dlq-source-offset";
    public const string FailedAt = "dlq-failed-at";
}

/// <summary>
/// Headers of a record sent back from <see cref="Topics.DeadLetter"/> to the topic it came from. They travel with
/// the record, so a replayed record that is rejected again carries them into its new dead letter.
/// </summary>
public static class ReplayHeaders
{
    /// <summary>The dead letter this record replays: <c>{topic}/{partition}/{offset}</c>.</summary>
    public const string ReplayOf = "userstream-replay-of";

    /// <summary>How many times this record has been replayed (1 for the first replay).</summary>
    public const string ReplayCount = "userstream-replay-count";

    /// <summary>Prefix of the headers a dead letter adds (<see cref="DeadLetterHeaders"/>), removed from a replayed record.</summary>
    public const string DeadLetterPrefix = "dlq-";
}
