using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using UserStream.Ingest;
using UserStream.Ingest.Runs;
using UserStream.Ingest.Schedule;
using UserStream.Ingest.Sources;
using UserStream.Ingest.Sources.Generator;

namespace UserStream.Benchmarks;

/// <summary>
/// The ingest stage with the offline generator: how fast users are generated, and how fast a run
/// delivers them to users_created (idempotent producer, acks=all, mock cluster) with its ledger in
/// PostgreSQL. A consumer reads the topic while the run produces and checks that every user landed.
/// Arguments: [users] (default 100000).
/// </summary>
public sealed class IngestBenchmark : IBenchmark
{
    public string Name => "ingest";

    public string Description => "generator → users_created: users/s generated, users/s delivered by a run; checks nothing is lost";

    public async Task RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var users = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 100_000;
        const int pageSize = 5_000;

        // 1. Generation alone.
        var generator = UserGenerator.Create();
        generator.Generate(new PageRequest("warm-up", 1, 1_000), cancellationToken);
        var clock = Stopwatch.StartNew();
        long bytes = 0;
        for (var page = 1; page <= (users + pageSize - 1) / pageSize; page++)
        {
            bytes += generator.Generate(new PageRequest("bench", page, pageSize), cancellationToken).Sum(u => (long)u.Json.Length);
        }

        var generated = (users + pageSize - 1) / pageSize * pageSize;
        Console.WriteLine($"generate: {generated:N0} users in {clock.Elapsed.TotalSeconds:F2} s = {generated / clock.Elapsed.TotalSeconds:N0} users/s, " +
                          $"{bytes / clock.Elapsed.TotalSeconds / 1e6:F1} MB/s, {bytes / generated} bytes/user");

        // 2. A run end to end.
        await using var cluster = await MockKafkaCluster.StartAsync();
        await using var database = await PostgresTestDatabase.CreateAsync();
        var topic = "users_created_bench";
        cluster.CreateTopic(topic, partitions: 12);

        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Kafka:BootstrapServers"] = cluster.BootstrapServers,
            ["ConnectionStrings:pipeline-db"] = database.ConnectionString,
            ["Ingest:Source"] = "Generator",
            ["Ingest:Topic"] = topic,
            ["Ingest:PageSize"] = pageSize.ToString(CultureInfo.InvariantCulture),
            ["Ingest:MaxRunSize"] = users.ToString(CultureInfo.InvariantCulture),
            ["Ingest:Schedule:Paused"] = "true",
            ["Ingest:Schedule:Size"] = "1",
        });
        builder.Logging.ClearProviders().AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);
        builder.AddIngestStage();
        using var host = builder.Build();
        await host.StartAsync(cancellationToken);
        var readiness = host.Services.GetRequiredService<IngestReadiness>();
        while (!readiness.IsReady)
        {
            await Task.Delay(20, cancellationToken);
        }

        using var stopReading = new CancellationTokenSource();
        var keys = new ConcurrentDictionary<string, byte>();
        var reader = Task.Factory.StartNew(() => Read(cluster.BootstrapServers, topic, keys, users, stopReading.Token), TaskCreationOptions.LongRunning);

        clock.Restart();
        var coordinator = host.Services.GetRequiredService<RunCoordinator>();
        var started = (TriggerResult.Started)await coordinator.TryStartAsync(RunTrigger.Manual, users, default, cancellationToken);
        var outcome = await started.Completion;
        var runSeconds = clock.Elapsed.TotalSeconds;
        Console.WriteLine($"run: {outcome.Status} — fetched {outcome.Counts.Fetched:N0}, produced (acknowledged) {outcome.Counts.Produced:N0}, " +
                          $"failed {outcome.Counts.Failed:N0} in {runSeconds:F2} s = {outcome.Counts.Produced / runSeconds:N0} users/s");

        stopReading.CancelAfter(TimeSpan.FromSeconds(30));
        await reader;
        Console.WriteLine($"read back: {keys.Count:N0} distinct keys of {users:N0} " +
                          (keys.Count == users && outcome.Status == RunStatus.Succeeded ? "— nothing lost" : "— LOST RECORDS"));
        await host.StopAsync(cancellationToken);
    }

    private static void Read(string bootstrap, string topic, ConcurrentDictionary<string, byte> keys, int expected, CancellationToken stop)
    {
        using var consumer = new ConsumerBuilder<string, byte[]>(new ConsumerConfig
        {
            BootstrapServers = bootstrap,
            GroupId = "bench-" + Guid.NewGuid().ToString("N"),
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoCommit = false,
        }).Build();
        consumer.Assign(Enumerable.Range(0, 12).Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)));
        while (keys.Count < expected && !stop.IsCancellationRequested)
        {
            if (consumer.Consume(TimeSpan.FromMilliseconds(100)) is { IsPartitionEOF: false, Message.Key: { } key })
            {
                keys.TryAdd(key, 0);
            }
        }

        consumer.Close();
    }
}
