using UserStream.Tests.Process;
using UserStream.Tests.Sink;

namespace UserStream.Tests.Pipeline;

/// <summary>
/// How long a stage takes from the start of its process to its first committed output, with the services'
/// own group settings (session.timeout.ms 45 s, heartbeat 3 s: none of the short test sessions): two instances
/// started together, and one instance killed (SIGKILL) and started again under the same instance id. The
/// times are printed (the figures of issue 12); what is asserted is that every record comes out exactly once.
/// </summary>
public sealed class StageStartupTests(KafkaBroker broker, PostgresDatabase database, ITestOutputHelper output)
    : IClassFixture<KafkaBroker>, IClassFixture<PostgresDatabase>
{
    /// <summary>Longer than the default session timeout: a stage that waits out a dead member still finishes.</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Two_processors_started_together_process_every_record_once()
    {
        var topics = StageTopics.Create(broker, partitions: 6);
        var settings = ProcessorSettings(topics, "start-" + Guid.NewGuid().ToString("N")[..8]);
        var ids = NewIds(200);
        await ProcessStageHarness.ProduceUsersAsync(broker.BootstrapServers, topics.Input, ids, Ct);

        var clock = Stopwatch.StartNew();
        await using var first = StageProcess.Start("process", With(settings, "Process:InstanceId", "processor-a"));
        await using var second = StageProcess.Start("process", With(settings, "Process:InstanceId", "processor-b"));
        var firstOutput = await TimeToAsync(() => CommittedOutputs(topics) > 0, clock);
        var allOutputs = await TimeToAsync(() => CommittedOutputs(topics) >= ids.Count, clock);

        Report("processor, two instances started together", firstOutput, allOutputs, first, second);
        ProcessStageHarness.AssertExactlyOnce(ids, ProcessStageHarness.ReadToEnd(broker.BootstrapServers, topics.Output, IsolationLevel.ReadCommitted));
    }

    [Fact]
    public async Task A_processor_killed_and_started_again_under_its_instance_id_resumes_exactly_once()
    {
        var topics = StageTopics.Create(broker, partitions: 6);
        var settings = With(ProcessorSettings(topics, "restart-" + Guid.NewGuid().ToString("N")[..8]), "Process:InstanceId", "processor-0");
        var before = NewIds(100);
        var after = NewIds(100);
        await ProcessStageHarness.ProduceUsersAsync(broker.BootstrapServers, topics.Input, before, Ct);

        await using (var killed = StageProcess.Start("process", settings))
        {
            var done = await TimeToAsync(() => CommittedOutputs(topics) >= before.Count, Stopwatch.StartNew());
            Assert.True(done is not null, $"the first processor never finished its records:\n{killed.RecentOutput()}");
            killed.Kill();
        }

        await ProcessStageHarness.ProduceUsersAsync(broker.BootstrapServers, topics.Input, after, Ct);
        var clock = Stopwatch.StartNew();
        await using var restarted = StageProcess.Start("process", settings);
        var firstOutput = await TimeToAsync(() => CommittedOutputs(topics) > before.Count, clock);
        var allOutputs = await TimeToAsync(() => CommittedOutputs(topics) >= before.Count + after.Count, clock);

        Report("processor, killed and started again under the same instance id", firstOutput, allOutputs, restarted);
        ProcessStageHarness.AssertExactlyOnce([.. before, .. after], ProcessStageHarness.ReadToEnd(broker.BootstrapServers, topics.Output, IsolationLevel.ReadCommitted));
    }

    [Fact]
    public async Task Two_sinks_started_together_store_every_record_once()
    {
        var rig = new SinkRig(broker, database, partitions: 6).CreateTopics();
        var users = TestUsers.Users(200, seed: 71);
        var ids = users.Select(u => u.Id).ToList();
        await rig.ProduceAsync(users);

        var clock = Stopwatch.StartNew();
        await using var first = StageProcess.Start("sink", With(SinkSettings(rig), "Sink:InstanceId", "sink-a"));
        await using var second = StageProcess.Start("sink", With(SinkSettings(rig), "Sink:InstanceId", "sink-b"));
        var firstOutput = await TimeToAsync(async () => await rig.RowsAsync(ids) > 0, clock);
        var allOutputs = await TimeToAsync(async () => rig.CommittedTotal() >= ids.Count, clock);

        Report("sink, two instances started together", firstOutput, allOutputs, first, second);
        Assert.Equal(ids.Count, await rig.RowsAsync(ids));
        Assert.Equal(ids.Count, rig.CommittedTotal());
    }

    [Fact]
    public async Task A_sink_killed_and_started_again_under_its_instance_id_resumes_where_it_committed()
    {
        var rig = new SinkRig(broker, database, partitions: 6).CreateTopics();
        var users = TestUsers.Users(200, seed: 72);
        var ids = users.Select(u => u.Id).ToList();
        var settings = With(SinkSettings(rig), "Sink:InstanceId", "sink-0");
        await rig.ProduceAsync(users[..100]);

        await using (var killed = StageProcess.Start("sink", settings))
        {
            var done = await TimeToAsync(() => rig.CommittedTotal() >= 100, Stopwatch.StartNew());
            Assert.True(done is not null, $"the first sink never committed its records:\n{killed.RecentOutput()}");
            killed.Kill();
        }

        await rig.ProduceAsync(users[100..]);
        var clock = Stopwatch.StartNew();
        await using var restarted = StageProcess.Start("sink", settings);
        var firstOutput = await TimeToAsync(async () => await rig.RowsAsync(ids) > 100, clock);
        var allOutputs = await TimeToAsync(() => rig.CommittedTotal() >= ids.Count, clock);

        Report("sink, killed and started again under the same instance id", firstOutput, allOutputs, restarted);
        Assert.Equal(ids.Count, await rig.RowsAsync(ids));
        Assert.Equal(ids.Count, rig.CommittedTotal());
    }

    private static List<Guid> NewIds(int count) => [.. Enumerable.Range(0, count).Select(_ => Guid.NewGuid())];

    /// <summary>The processor's test settings without the short group session: the service's defaults apply.</summary>
    private Dictionary<string, string?> ProcessorSettings(StageTopics topics, string group) =>
        WithServiceGroupSettings(ProcessStageHarness.Settings(broker.BootstrapServers, topics, "unset", group));

    private static Dictionary<string, string?> SinkSettings(SinkRig rig) => WithServiceGroupSettings(rig.Settings());

    private static Dictionary<string, string?> WithServiceGroupSettings(Dictionary<string, string?> settings)
    {
        settings.Remove("Kafka:Settings:session.timeout.ms");
        settings.Remove("Kafka:Settings:heartbeat.interval.ms");
        return settings;
    }

    private static Dictionary<string, string?> With(Dictionary<string, string?> settings, string key, string value) =>
        new(settings) { [key] = value };

    private int CommittedOutputs(StageTopics topics) =>
        ProcessStageHarness.ReadToEnd(broker.BootstrapServers, topics.Output, IsolationLevel.ReadCommitted).Count;

    private static Task<TimeSpan?> TimeToAsync(Func<bool> condition, Stopwatch clock) =>
        TimeToAsync(() => Task.FromResult(condition()), clock);

    /// <summary>The clock's reading when <paramref name="condition"/> first holds; null when it never did within <see cref="Patience"/>.</summary>
    private static async Task<TimeSpan?> TimeToAsync(Func<Task<bool>> condition, Stopwatch clock)
    {
        var reached = await Eventually.Async(condition, holds => holds, Patience - clock.Elapsed, TimeSpan.FromMilliseconds(50));
        return reached ? clock.Elapsed : null;
    }

    private void Report(string what, TimeSpan? first, TimeSpan? all, params StageProcess[] processes)
    {
        output.WriteLine($"{what}: first committed output after {Seconds(first)}, all after {Seconds(all)}");
        Assert.True(all is not null, $"{what}: not every record came out within {Patience.TotalSeconds:0} s:\n" +
            string.Join("\n---\n", processes.Select(p => p.RecentOutput())));
    }

    private static string Seconds(TimeSpan? time) => time is { } t ? $"{t.TotalSeconds:0.0} s" : "never";
}
