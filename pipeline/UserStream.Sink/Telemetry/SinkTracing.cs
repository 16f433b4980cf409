namespace UserStream.Sink.Telemetry;

/// <summary>
/// The sink's spans. Each record gets a <c>process {topic}</c> span continuing the trace in its headers
/// (so ingest → process → sink share one trace id per record). A batch write is one <c>store write</c>
/// span (a root, kind Client) linked to every record's process span; and once the store confirmed the
/// batch, each written record gets a short <c>store write</c> child span under its own process span,
/// covering the same interval and linked back to the batch span. A trace viewer therefore shows the
/// store write inside every record's trace, and the batch span shows which records it carried.
/// </summary>
public sealed class SinkTracing(StageTelemetry telemetry)
{
    public const string StoreWriteSpanName = "store write";

    public ActivitySource Source => telemetry.Source;

    /// <summary>Starts the record's process span without making it the thread's current activity.</summary>
    public Activity? StartProcess(ConsumeResult<string, byte[]> record, string consumerGroup)
    {
        var previous = Activity.Current;
        var activity = KafkaTracing.StartProcess(telemetry.Source, record, consumerGroup);
        Activity.Current = previous;
        return activity;
    }

    /// <summary>Starts the batch's write span, linked to each record's process span.</summary>
    public Activity? StartBatchWrite(IReadOnlyList<SinkRecord> records, string table)
    {
        if (!telemetry.Source.HasListeners())
        {
            return null;
        }

        var links = records
            .Where(r => r.Process is not null)
            .Select(r => new ActivityLink(r.Process!.Context))
            .ToList();
        var previous = Activity.Current;
        Activity.Current = null;
        var activity = telemetry.Source.StartActivity(StoreWriteSpanName, ActivityKind.Client, parentContext: default, links: links);
        Activity.Current = previous;
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("db.collection.name", table);
            activity.SetTag("db.operation.name", "upsert");
            activity.SetTag("db.operation.batch.size", records.Count);
        }

        return activity;
    }

    /// <summary>Records, under the record's process span, that its row was written as part of <paramref name="batch"/>.</summary>
    public void RecordWritten(SinkRecord record, Activity? batch, DateTimeOffset startedAt, DateTimeOffset confirmedAt, string table)
    {
        if (record.Process is null)
        {
            return;
        }

        var links = batch is null ? null : new[] { new ActivityLink(batch.Context) };
        var previous = Activity.Current;
        var activity = telemetry.Source.StartActivity(
            StoreWriteSpanName, ActivityKind.Internal, record.Process.Context, links: links, startTime: startedAt);
        Activity.Current = previous;
        if (activity is null)
        {
            return;
        }

        activity.SetTag("db.collection.name", table);
        activity.SetTag("db.operation.name", "upsert");
        activity.SetTag("userstream.user.id", record.User?.Id.ToString());
        activity.SetEndTime(confirmedAt.UtcDateTime);
        activity.Stop();
        Activity.Current = previous;
    }

    /// <summary>Ends the record's process span with the outcome.</summary>
    public static void Finish(SinkRecord record)
    {
        var activity = record.Process;
        if (activity is null)
        {
            return;
        }

        var previous = Activity.Current;
        activity.SetTag("userstream.sink.outcome", record.State.ToString().ToLowerInvariant());
        if (record.State == SinkRecordState.Rejected && record.Rejection is { } rejection)
        {
            activity.SetTag("error.type", rejection.Code);
            activity.SetStatus(ActivityStatusCode.Error, rejection.Reason);
        }

        activity.Stop();
        Activity.Current = previous;
    }
}
