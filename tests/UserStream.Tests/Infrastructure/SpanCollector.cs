namespace UserStream.Tests.Infrastructure;

/// <summary>
/// Collects the spans the pipeline's stages finish (sources named <c>UserStream.*</c>) in-process, as
/// an OpenTelemetry exporter would receive them. Listeners are process-wide: filter by trace id.
/// </summary>
public sealed class SpanCollector : IDisposable
{
    private readonly ConcurrentQueue<Activity> _spans = new();
    private readonly ActivityListener _listener;

    public SpanCollector()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name.StartsWith("UserStream.", StringComparison.Ordinal),
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _spans.Enqueue,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    /// <summary>Every finished span so far.</summary>
    public IReadOnlyList<Activity> Spans => [.. _spans];

    /// <summary>The finished spans of one trace.</summary>
    public IReadOnlyList<Activity> Trace(ActivityTraceId traceId) => [.. _spans.Where(s => s.TraceId == traceId)];

    public void Dispose() => _listener.Dispose();
}
