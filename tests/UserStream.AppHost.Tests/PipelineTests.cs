using UserStream.AppHost.Tests.Infrastructure;

namespace UserStream.AppHost.Tests;

/// <summary>The pipeline as the AppHost runs it: users go in at the ingestor and come out in Cassandra.</summary>
public sealed class PipelineTests(PipelineApp pipeline) : IClassFixture<PipelineApp>
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task Every_generated_user_reaches_cassandra_once_and_nothing_is_dead_lettered()
    {
        Assert.SkipWhen(pipeline.SkipReason is not null, pipeline.SkipReason ?? "");
        var ct = TestContext.Current.CancellationToken;
        const int users = 200;

        var before = await PipelineClients.StoredUsersAsync(pipeline.App, ct);
        await PipelineClients.StartRunAsync(pipeline.App, users, ct);

        var stored = await Eventually.Async(
            token => PipelineClients.StoredUsersAsync(pipeline.App, token), count => count >= before + users, Patience, Eventually.WholeAppInterval, ct);

        Assert.Equal(before + users, stored);
        Assert.Equal(0, await PipelineClients.DeadLettersAsync(pipeline.App, ct));
    }

    [Fact]
    public async Task One_trace_runs_through_the_ingestor_the_processor_and_the_sink()
    {
        Assert.SkipWhen(pipeline.SkipReason is not null, pipeline.SkipReason ?? "");
        var ct = TestContext.Current.CancellationToken;
        var stages = PipelineClients.Services;

        await PipelineClients.StartRunAsync(pipeline.App, 5, ct);

        var traces = await Eventually.Async(
            _ => Task.FromResult(PipelineClients.ServicesByTrace(pipeline.Otlp.Spans)),
            collected => collected.Values.Any(services => stages.All(services.Contains)),
            Patience, Eventually.WholeAppInterval,
            ct);

        Assert.Contains(traces.Values, services => stages.All(services.Contains));
    }
}
