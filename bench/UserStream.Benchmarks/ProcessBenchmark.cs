namespace UserStream.Benchmarks;

/// <summary>
/// Throughput of the process stage (validate, enrich, exactly-once transactions, dead-lettering) against
/// a plain consume→produce pass-through of the same records on the same mock cluster (see
/// <see cref="ProcessThroughput"/>). Options: --records N (default 50000), --partitions P (default 6), --max-count N and
/// --idle-wait-ms N (the batch limits, default the services'), --repeat N (default 1), --warmup N (default 3: comparisons
/// run first and not counted; a fresh process's stage reaches its steady speed only after 150,000–250,000 records, while
/// the runtime's tiered JIT recompiles its hot code with profile data). With more than one repeat it prints the medians.
/// </summary>
public sealed class ProcessBenchmark : IBenchmark
{
    public string Name => "process";

    public string Description => "process stage vs plain consume→produce pass-through (records/s, ratio), outputs counted";

    public async Task RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var records = BenchmarkArgs.Int(args, "--records", 50_000);
        var partitions = BenchmarkArgs.Int(args, "--partitions", 6);
        var limits = new UserStream.Streaming.Kafka.BatchLimits();
        limits.MaxCount = BenchmarkArgs.Int(args, "--max-count", limits.MaxCount);
        limits.IdleWait = TimeSpan.FromMilliseconds(BenchmarkArgs.Int(args, "--idle-wait-ms", (int)limits.IdleWait.TotalMilliseconds));
        for (var warmup = BenchmarkArgs.Int(args, "--warmup", 3); warmup > 0; warmup--)
        {
            Console.WriteLine("(warm-up, not counted)");
            await CompareAsync(records, partitions, limits, cancellationToken);
        }

        var measured = new List<(double Stage, double PassThrough)>();
        for (var repeat = BenchmarkArgs.Int(args, "--repeat", 1); repeat > 0; repeat--)
        {
            measured.Add(await CompareAsync(records, partitions, limits, cancellationToken));
        }

        if (measured.Count > 1)
        {
            Console.WriteLine(
                $"median of {measured.Count}: stage {Statistics.Median(measured.Select(m => m.Stage)):N0} records/s, pass-through " +
                $"{Statistics.Median(measured.Select(m => m.PassThrough)):N0}, share {Statistics.Median(measured.Select(m => m.Stage / m.PassThrough)):P0} " +
                $"(per repeat: {string.Join(", ", measured.Select(m => (m.Stage / m.PassThrough).ToString("P0", CultureInfo.InvariantCulture)))})");
        }
    }

    private static async Task<(double Stage, double PassThrough)> CompareAsync(
        int records, int partitions, UserStream.Streaming.Kafka.BatchLimits limits, CancellationToken cancellationToken)
    {
        await using var cluster = await MockKafkaCluster.StartAsync();
        return await ProcessThroughput.CompareAsync(cluster, records, partitions, cancellationToken, limits);
    }
}
