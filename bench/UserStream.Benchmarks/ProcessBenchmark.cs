namespace UserStream.Benchmarks;

/// <summary>
/// Throughput of the process stage (validate, enrich, exactly-once transactions, dead-lettering) against
/// a plain consume→produce pass-through of the same records on the same mock cluster (see
/// <see cref="ProcessThroughput"/>). Options: --records N (default 50000), --partitions P (default 6), --max-count N and
/// --idle-wait-ms N (the batch limits, default the services'), --repeat N (default 1; the first measurement of a fresh
/// process includes JIT warm-up).
/// </summary>
public sealed class ProcessBenchmark : IBenchmark
{
    public string Name => "process";

    public string Description => "process stage vs plain consume→produce pass-through (records/s, ratio), outputs counted";

    public async Task RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var records = Option(args, "--records", 50_000);
        var partitions = Option(args, "--partitions", 6);
        var limits = new UserStream.Streaming.Kafka.BatchLimits();
        limits.MaxCount = Option(args, "--max-count", limits.MaxCount);
        limits.IdleWait = TimeSpan.FromMilliseconds(Option(args, "--idle-wait-ms", (int)limits.IdleWait.TotalMilliseconds));
        for (var repeat = Option(args, "--repeat", 1); repeat > 0; repeat--)
        {
            await using var cluster = await MockKafkaCluster.StartAsync();
            await ProcessThroughput.CompareAsync(cluster, records, partitions, cancellationToken, limits);
        }
    }

    private static int Option(string[] args, string name, int fallback)
    {
        var at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? int.Parse(args[at + 1], CultureInfo.InvariantCulture) : fallback;
    }
}
