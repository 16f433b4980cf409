using System.Text;
using System.Text.RegularExpressions;
using Confluent.Kafka;
using UserStream.AppHost.Tests.Infrastructure;

namespace UserStream.AppHost.Tests;

/// <summary>
/// The real application, run by DCP from the AppHost without a container engine (<see cref="ExistingInfrastructureApp"/>):
/// 2 processor and 2 sink replicas over a mock Kafka cluster and PostgreSQL, users in through the ingestor's API,
/// counted out through the sink's.
/// </summary>
public sealed partial class ExistingInfrastructureTests(ExistingInfrastructureApp pipeline) : IClassFixture<ExistingInfrastructureApp>
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(3);

    /// <summary>Records the processor must dead-letter, each with the code it must give.</summary>
    private static readonly (string Key, byte[]? Value, string Code)[] BadInputs =
    [
        ($"bad-{Guid.NewGuid():N}", null, "empty"),
        ($"bad-{Guid.NewGuid():N}", "this is not json"u8.ToArray(), "not_json"),
        ($"bad-{Guid.NewGuid():N}", "[1,2,3]"u8.ToArray(), "not_object"),
        ($"bad-{Guid.NewGuid():N}", "{\"gender\":\"female\"}"u8.ToArray(), "missing_field"),
        ($"bad-{Guid.NewGuid():N}", [0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d], "not_utf8"),
    ];

    [Fact]
    public async Task Every_replica_of_every_service_is_running_and_healthy()
    {
        var ct = TestContext.Current.CancellationToken;
        Report($"start-up to all healthy: {pipeline.StartupToHealthy.TotalSeconds:F1} s; to the first user stored: {pipeline.StartupToFirstUserStored.TotalSeconds:F1} s");

        foreach (var service in PipelineClients.Services)
        {
            var replicas = await pipeline.ReplicaIdsAsync(service, ct);
            Assert.Equal(service == ResourceNames.Ingestor ? 1 : ExistingInfrastructureApp.Replicas, replicas.Length);
            foreach (var replica in replicas)
            {
                Assert.True(pipeline.App.ResourceNotifications.TryGetCurrentState(replica, out var state), $"no state for {replica}");
                Assert.Equal((KnownResourceStates.Running, Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy), (state.Snapshot.State?.Text, state.Snapshot.HealthStatus));
            }
        }
    }

    [Fact]
    public async Task N_users_in_give_exactly_N_rows_and_the_dead_letter_topic_holds_exactly_the_bad_inputs_with_their_codes()
    {
        var ct = TestContext.Current.CancellationToken;
        const int users = 500;
        var before = await PipelineClients.StoredUsersAsync(pipeline.App, ct);
        var deadLettersBefore = DeadLetters().Count;

        await KafkaTopicReader.ProduceAsync(
            pipeline.BootstrapServers,
            Topics.UsersCreated,
            BadInputs.Select(b => new Message<string, byte[]> { Key = b.Key, Value = b.Value! }),
            ct);
        await PipelineClients.StartRunAsync(pipeline.App, users, ct);

        await Eventually.Async(t => PipelineClients.StoredUsersAsync(pipeline.App, t), n => n >= before + users, Patience, Eventually.WholeAppInterval, ct);
        var deadLetters = await Eventually.Async(
            _ => Task.FromResult(DeadLetters()), d => d.Count >= deadLettersBefore + BadInputs.Length, Patience, Eventually.WholeAppInterval, ct);
        await Task.Delay(TimeSpan.FromSeconds(3), ct); // anything extra would have arrived by now
        var stored = await PipelineClients.StoredUsersAsync(pipeline.App, ct);
        deadLetters = DeadLetters();

        Assert.Equal(before + users, stored);
        var rejected = deadLetters.Skip(deadLettersBefore).ToDictionary(d => d.Message.Key, Code);
        Assert.Equal(BadInputs.ToDictionary(b => b.Key, b => b.Code), rejected);
    }

    [Fact]
    public async Task A_runs_trace_has_spans_from_the_ingestor_the_processor_and_the_sink_processes()
    {
        var ct = TestContext.Current.CancellationToken;
        var stages = PipelineClients.Services;
        const int users = 20;

        var (run, stored) = await PipelineClients.RunAndStoreAsync(pipeline.App, users, Patience, ct);
        Assert.Equal(users, stored);
        Assert.False(string.IsNullOrEmpty(run.TraceId), "POST /runs gave no trace id");

        // Spans are exported in batches, each process on its own schedule: wait until every stage's spans of this run's
        // trace have arrived and so has the parent of every span (a child can be exported before its parent).
        var spans = await Eventually.Async(
            _ => Task.FromResult(pipeline.Otlp.Spans.Where(s => s.TraceId == run.TraceId).ToList()),
            collected => stages.All(stage => collected.Count(s => s.Service == stage) >= users) && EveryParentArrived(collected),
            Patience, Eventually.WholeAppInterval,
            ct);

        var byService = spans.GroupBy(s => s.Service).ToDictionary(g => g.Key, g => g.ToList());
        Report($"run {run.Id}, {users} users, trace {run.TraceId}: " + string.Join("; ", byService.Select(g =>
            $"{g.Key} {g.Value.Count} spans from {g.Value.Select(s => s.InstanceId).Distinct().Count()} process(es) ({string.Join(", ", g.Value.Select(s => s.Name).Distinct())})")));
        foreach (var stage in stages)
        {
            Assert.True(byService.TryGetValue(stage, out var stageSpans) && stageSpans.Count >= users, $"{stage}: {byService.GetValueOrDefault(stage)?.Count ?? 0} spans in the run's trace");
            Assert.All(stageSpans, s => Assert.False(string.IsNullOrEmpty(s.InstanceId)));
        }

        // One trace: every span's parent is a span of the same trace (or it is the run's root).
        var ids = spans.Select(s => s.SpanId).ToHashSet(StringComparer.Ordinal);
        Assert.Single(spans, s => string.IsNullOrEmpty(s.ParentSpanId));
        Assert.All(spans.Where(s => !string.IsNullOrEmpty(s.ParentSpanId)), s => Assert.Contains(s.ParentSpanId, ids));
    }

    [Fact]
    public async Task Processor_replicas_have_distinct_transactional_ids_and_none_fences_another()
    {
        var ct = TestContext.Current.CancellationToken;
        var ids = new List<string>();
        var fenced = new List<string>();
        foreach (var replica in await pipeline.ReplicaIdsAsync(ResourceNames.Processor, ct))
        {
            var lines = await ConsoleLinesAsync(replica, line => line.Contains(" processing group ", StringComparison.Ordinal), ct);
            ids.AddRange(lines.Select(l => TransactionalId().Match(l)).Where(m => m.Success).Select(m => m.Groups[1].Value).Distinct());
            fenced.AddRange(lines.Where(l => l.Contains("fenced", StringComparison.OrdinalIgnoreCase)));
        }

        Report($"transactional ids: {string.Join(", ", ids)}");
        Assert.Equal(ExistingInfrastructureApp.Replicas, ids.Count);
        Assert.Equal(ids.Count, ids.Distinct(StringComparer.Ordinal).Count());
        Assert.Empty(fenced);
    }

    [Fact]
    public async Task A_processor_replica_stopped_and_started_mid_stream_through_its_commands_still_gives_exactly_N()
    {
        var ct = TestContext.Current.CancellationToken;
        const int users = 20_000; // the mock keeps 5 MiB per partition: a lagging consumer must not fall further behind
        var replica = (await pipeline.ReplicaIdsAsync(ResourceNames.Processor, ct))[0];
        var before = await PipelineClients.StoredUsersAsync(pipeline.App, ct);

        await PipelineClients.StartRunAsync(pipeline.App, users, ct);
        // Watched closely, so that the replica stops while the run is still streaming.
        var streaming = await Eventually.Async(
            t => PipelineClients.StoredUsersAsync(pipeline.App, t), n => n > before, Patience, TimeSpan.FromMilliseconds(50), ct);

        var stop = await pipeline.App.ResourceCommands.ExecuteCommandAsync(replica, KnownResourceCommands.StopCommand, ct);
        Assert.True(stop.Success, stop.Message);
        var atStop = await PipelineClients.StoredUsersAsync(pipeline.App, ct);
        await pipeline.WaitForReplicasAsync(
            [ResourceNames.Processor],
            e => e.ResourceId != replica || KnownResourceStates.TerminalStates.Contains(e.Snapshot.State?.Text),
            ct);

        var start = await pipeline.App.ResourceCommands.ExecuteCommandAsync(replica, KnownResourceCommands.StartCommand, ct);
        Assert.True(start.Success, start.Message);
        await pipeline.WaitUntilHealthyAsync(ct);

        var stored = await Eventually.Async(t => PipelineClients.StoredUsersAsync(pipeline.App, t), n => n >= before + users, Patience, Eventually.WholeAppInterval, ct);
        await Task.Delay(TimeSpan.FromSeconds(3), ct);
        stored = await PipelineClients.StoredUsersAsync(pipeline.App, ct);

        Report($"stopped {replica} with {streaming - before} of {users} users stored when seen streaming, {atStop - before} when stopped; {stored - before} after its restart");
        // The stop is asked for while the run streams; with groups that rebalance at once (static members, a graceful
        // leave) the other replica may well finish the run before the stop command returns.
        Assert.True(streaming < before + users, $"the run was over ({streaming - before} stored) before the replica was stopped: nothing was shown");
        Assert.Equal(before + users, stored);
    }

    [Fact]
    public async Task The_dashboards_start_run_command_sends_the_api_key_and_starts_a_run()
    {
        var ct = TestContext.Current.CancellationToken;
        var ingestor = (await pipeline.ReplicaIdsAsync(ResourceNames.Ingestor, ct))[0];
        var before = await PipelineClients.StoredUsersAsync(pipeline.App, ct);

        // Asked again while the previous test's run is still being released (409).
        var result = await Eventually.Async(
            t => pipeline.App.ResourceCommands.ExecuteCommandAsync(ingestor, PipelineDashboardExtensions.Commands.StartRun, t),
            r => r.Success, Patience, Eventually.WholeAppInterval, ct);

        Report($"start-run command: {result.Success} {result.Message}");
        Assert.True(result.Success, $"the start-run command failed (without the API key the ingestor answers 401): {result.Message}");
        // The command's run ends and all its users are stored before the next test counts users.
        var produced = await PipelineClients.LatestRunEndedAsync(pipeline.App, Patience, ct);
        var stored = await Eventually.Async(t => PipelineClients.StoredUsersAsync(pipeline.App, t), n => n >= before + produced, Patience, Eventually.WholeAppInterval, ct);
        Assert.True(produced > 0 && stored >= before + produced, $"the command's run produced {produced} users; {stored - before} more stored");
    }

    [Fact]
    public async Task The_dashboards_replay_command_sends_the_api_key_and_replays_the_dead_letters_of_the_code_once()
    {
        var ct = TestContext.Current.CancellationToken;
        var processor = (await pipeline.ReplicaIdsAsync(ResourceNames.Processor, ct))[0];
        var key = $"bad-{Guid.NewGuid():N}";
        await KafkaTopicReader.ProduceAsync(
            pipeline.BootstrapServers, Topics.UsersCreated, [new Message<string, byte[]> { Key = key, Value = "{\"a\":1} trailing"u8.ToArray() }], ct);
        await Eventually.Async(_ => Task.FromResult(DeadLetters().Count(d => d.Message.Key == key)), n => n >= 1, Patience, Eventually.WholeAppInterval, ct);
        var arguments = new InteractionInputCollection(
        [
            new InteractionInput { Name = PipelineDashboardExtensions.Arguments.ReplayCode, InputType = InputType.Text, Value = "trailing_data" },
        ]);

        var result = await pipeline.App.ResourceCommands.ExecuteCommandAsync(processor, PipelineDashboardExtensions.Commands.ReplayDeadLetters, arguments, ct);

        Report($"replay-dead-letters command: {result.Success} {result.Message}");
        Assert.True(result.Success, $"the replay command failed (without the API key the processor answers 401): {result.Message}");
        // Still invalid: replayed once, it comes back once more, as the replay of the first dead letter (replay count 1).
        var again = await Eventually.Async(
            _ => Task.FromResult(DeadLetters().Where(d => d.Message.Key == key).ToList()), d => d.Count >= 2, Patience, Eventually.WholeAppInterval, ct);
        Assert.Equal(2, again.Count);
        Assert.True(again[1].Message.Headers.TryGetLastBytes(ReplayHeaders.ReplayCount, out var count));
        Assert.Equal("1", Encoding.UTF8.GetString(count));
    }

    private List<ConsumeResult<string, byte[]>> DeadLetters() =>
        KafkaTopicReader.ReadToEnd(pipeline.BootstrapServers, Topics.DeadLetter);

    private static string Code(ConsumeResult<string, byte[]> deadLetter) =>
        deadLetter.Message.Headers.TryGetLastBytes(DeadLetterHeaders.ErrorCode, out var code) ? Encoding.UTF8.GetString(code) : "";

    /// <summary>The console lines a replica wrote so far that match <paramref name="wanted"/> (waiting a little for the first).</summary>
    private async Task<List<string>> ConsoleLinesAsync(string replica, Func<string, bool> wanted, CancellationToken cancellationToken)
    {
        var lines = new List<string>();
        using var quiet = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        quiet.CancelAfter(TimeSpan.FromSeconds(10));
        try
        {
            await foreach (var batch in pipeline.App.Services.GetRequiredService<ResourceLoggerService>().WatchAsync(replica).WithCancellation(quiet.Token))
            {
                lines.AddRange(batch.Select(l => l.Content).Where(wanted));
                if (lines.Count > 0)
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
        }

        return lines;
    }

    /// <summary>A figure of the run: in the test's output and in <c>TestResults/apphost-logs/figures.txt</c> (printed by the test command).</summary>
    private static void Report(string line)
    {
        TestContext.Current.TestOutputHelper?.WriteLine(line);
        File.AppendAllText(Path.Combine(ServiceLogs.Directory, "figures.txt"), $"{TestContext.Current.Test?.TestDisplayName}: {line}{Environment.NewLine}");
    }

    [GeneratedRegex(@"(processor-\S+) processing group")]
    private static partial Regex TransactionalId();

    private static bool EveryParentArrived(IReadOnlyCollection<ReceivedSpan> spans)
    {
        var ids = spans.Select(s => s.SpanId).ToHashSet(StringComparer.Ordinal);
        return spans.All(s => string.IsNullOrEmpty(s.ParentSpanId) || ids.Contains(s.ParentSpanId));
    }
}
