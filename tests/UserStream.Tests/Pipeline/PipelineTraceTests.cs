namespace UserStream.Tests.Pipeline;

/// <summary>A user's way through the pipeline is one trace, as an OpenTelemetry backend would show it.</summary>
public sealed class PipelineTraceTests
{
    [Fact]
    public async Task One_users_spans_from_the_ingest_send_through_process_and_sink_to_the_store_write_are_one_trace()
    {
        const int size = 50;
        using var spans = new SpanCollector();
        await using var pipeline = await PipelineRig.CreateAsync();
        await pipeline.StartAllAsync(cancellationToken: Ct);

        var run = await pipeline.StartRunAsync(size, cancellationToken: Ct);
        var done = await pipeline.WaitForRunAsync(run.Id, cancellationToken: Ct);
        Assert.Equal(size, await pipeline.WaitForRowsAsync(size, cancellationToken: Ct));
        var user = pipeline.ProducedIds(size, done)[size / 2];
        var traceId = ActivityTraceId.CreateFromString(done.TraceId);

        // The sink ends a record's spans once its batch is committed: wait for the whole chain.
        var chain = await Eventually.Async(() => Task.FromResult(Chain(spans.Trace(traceId), user)), c => c.Count == 5, cancellationToken: Ct);

        Assert.True(chain.Count == 5, $"the trace {traceId} of user {user} holds only: {string.Join(" → ", chain.Select(Describe))}");
        Assert.Equal(
            [
                (StageTelemetry.Ingest, $"send {Topics.UsersCreated}"),
                (StageTelemetry.Process, $"process {Topics.UsersCreated}"),
                (StageTelemetry.Process, $"send {Topics.UsersEnriched}"),
                (StageTelemetry.Sink, $"process {Topics.UsersEnriched}"),
                (StageTelemetry.Sink, "store write"),
            ],
            chain.Select(s => (s.Source.Name, s.DisplayName)));
        Assert.All(chain, s => Assert.Equal(traceId, s.TraceId));
        Assert.Equal(user.ToString("D"), chain[^1].GetTagItem("userstream.user.id"));
    }

    /// <summary>
    /// The user's spans, each the child of the one before: its ingest send, the processor's process and
    /// send, the sink's process, the sink's store write. Stops where the chain breaks.
    /// </summary>
    private static List<Activity> Chain(IReadOnlyList<Activity> trace, Guid user)
    {
        var chain = new List<Activity>();
        var send = trace.SingleOrDefault(s =>
            s.Source.Name == StageTelemetry.Ingest && s.Kind == ActivityKind.Producer
            && (s.GetTagItem("messaging.kafka.message.key") as string) == user.ToString("D"));
        for (var span = send; span is not null; span = trace.SingleOrDefault(s => s.ParentSpanId == span.SpanId))
        {
            chain.Add(span);
        }

        return chain;
    }

    private static string Describe(Activity span) => $"{span.Source.Name}: {span.DisplayName}";
}
