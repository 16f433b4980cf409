using System.Text;
using Microsoft.Extensions.Options;
using UserStream.Ingest.Sources;
using UserStream.Ingest.Sources.Generator;
using UserStream.Process;
using UserStream.Streaming.Kafka;

namespace UserStream.Benchmarks;

/// <summary>
/// The process stage's throughput beside a plain consume→produce pass-through of the same records on the same
/// mock cluster (same partitions, batching and consumer; idempotent producer; no validation, no transactions).
/// Records are fed while they are consumed (the mock keeps only 5 MiB per partition) and every output is read
/// back and counted. Each side gets fresh topics with the same spread of partition leaders over the brokers, and its
/// clock starts once one primer record per partition has come through it (group joined, partitions assigned: the
/// start-up is StageStartupTests' subject, and its 0.2–1 s spread would otherwise swamp the comparison). Shared by
/// the process and pipeline benchmarks.
/// </summary>
internal static class ProcessThroughput
{
    /// <summary>
    /// Most records fed but not yet read back as outputs, per input partition: about 3 MiB of users, below the
    /// mock's 5 MiB, and enough that the measured side never waits for input.
    /// </summary>
    private const int BacklogPerPartition = 3_000;

    /// <summary>Measures the stage, then the pass-through, on fresh topics of <paramref name="cluster"/>; prints both and their ratio.</summary>
    public static async Task<(double Stage, double PassThrough)> CompareAsync(
        MockKafkaCluster cluster, int records, int partitions, CancellationToken cancellationToken, BatchLimits? batch = null)
    {
        var limits = batch ?? new BatchLimits();
        var generated = GenerateUsers(partitions + records);
        var primers = generated[..partitions];
        var users = generated[partitions..];
        Console.WriteLine(
            $"{records} randomuser-shaped users (avg {users.Average(u => u.Value.Length):F0} B), {partitions} partitions, " +
            $"batches of up to {limits.MaxCount} records / {limits.MaxWait.TotalMilliseconds} ms, closed after {limits.IdleWait.TotalMilliseconds} ms without a next record");

        var stage = await MeasureAsync(cluster, "stage", primers, users, partitions, (topics, ct) => RunStageAsync(cluster, topics, limits, ct), cancellationToken);
        var passThrough = await MeasureAsync(cluster, "pass-through", primers, users, partitions, (topics, ct) => Task.Run(() => PassThrough(cluster, topics, limits, ct), ct), cancellationToken);

        Console.WriteLine($"stage / pass-through: {stage / passThrough:P0} of the pass-through's throughput");
        return (stage, passThrough);
    }

    private static async Task<double> MeasureAsync(
        MockKafkaCluster cluster,
        string name,
        List<Message<string, byte[]>> primers,
        List<Message<string, byte[]>> users,
        int partitions,
        Func<(string Input, string Output, string DeadLetter), CancellationToken, Task> run,
        CancellationToken cancellationToken)
    {
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var topics = ($"{name}-in-{suffix}", $"{name}-out-{suffix}", $"{name}-dlq-{suffix}");
        foreach (var topic in new[] { topics.Item1, topics.Item2, topics.Item3 })
        {
            cluster.CreateTopic(topic, partitions);
            cluster.SpreadLeaders(topic, partitions);
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var counter = new OutputCounter(cluster.BootstrapServers, topics.Item2, primers.Count + users.Count);
        var reading = Task.Run(() => counter.Run(stop.Token), stop.Token);
        var processing = run(topics, stop.Token);

        // The clock starts once one record per partition has come through: the measured side has joined its group,
        // has its partitions and has committed output, so the figure is its steady throughput, not its group join.
        var primed = Stopwatch.StartNew();
        await PrimeAsync(cluster.BootstrapServers, topics.Item1, primers, counter, stop.Token);
        var primedIn = primed.Elapsed;

        // The whole benchmark process's CPU (both sides' clients, the mock brokers, feeder and counter).
        var cpu0 = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        await FeedAsync(cluster.BootstrapServers, topics.Item1, users, partitions * BacklogPerPartition, counter, stop.Token);
        var complete = await Task.WhenAny(reading, Task.Delay(TimeSpan.FromMinutes(1), cancellationToken)) == reading;
        var elapsed = clock.Elapsed;
        var cpu = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime - cpu0;
        await stop.CancelAsync();
        await processing;

        var rate = (counter.Distinct - primers.Count) / elapsed.TotalSeconds;
        Console.WriteLine(
            $"{name,-13} {rate,10:N0} records/s  ({counter.Distinct - primers.Count} of {users.Count} outputs in {elapsed.TotalSeconds:F1} s, " +
            $"{counter.Total - counter.Distinct} duplicates; the process used {cpu.TotalSeconds:F1} s of CPU; primed in {primedIn.TotalSeconds:F1} s)");
        var expected = primers.Count + users.Count;
        if (!complete || counter.Distinct != expected || counter.Total != expected)
        {
            throw new InvalidOperationException($"{name}: {counter.Total} outputs ({counter.Distinct} distinct) for {expected} inputs");
        }

        return rate;
    }

    /// <summary>Produces one primer per partition (in turn) and waits until each has come out.</summary>
    private static async Task PrimeAsync(
        string bootstrapServers, string topic, List<Message<string, byte[]>> primers, OutputCounter counter, CancellationToken cancellationToken)
    {
        var config = new ProducerConfig { BootstrapServers = bootstrapServers };
        KafkaClientShapes.Idempotent(config);
        using var producer = new ProducerBuilder<string, byte[]>(config).Build();
        for (var partition = 0; partition < primers.Count; partition++)
        {
            var primer = primers[partition];
            primer.Headers = new Headers().SetTimestamp(PipelineHeaders.IngestedAt, DateTimeOffset.UtcNow);
            producer.Produce(new TopicPartition(topic, new Partition(partition)), primer);
        }

        producer.Flush(cancellationToken);
        while (counter.Distinct < primers.Count)
        {
            await Task.Delay(5, cancellationToken);
        }
    }

    /// <summary>Produces the users in chunks, never more than <paramref name="maxBacklog"/> ahead of the outputs read back.</summary>
    private static async Task FeedAsync(
        string bootstrapServers, string topic, List<Message<string, byte[]>> users, int maxBacklog, OutputCounter counter, CancellationToken cancellationToken)
    {
        var config = new ProducerConfig { BootstrapServers = bootstrapServers };
        KafkaClientShapes.Idempotent(config);
        using var producer = new ProducerBuilder<string, byte[]>(config).Build();
        var primed = counter.Distinct;
        const int chunk = 1_000;
        for (var start = 0; start < users.Count; start += chunk)
        {
            while (start + chunk - (counter.Distinct - primed) > maxBacklog)
            {
                await Task.Delay(5, cancellationToken);
            }

            var end = Math.Min(start + chunk, users.Count);
            for (var i = start; i < end; i++)
            {
                var user = users[i];
                user.Headers = new Headers().SetTimestamp(PipelineHeaders.IngestedAt, DateTimeOffset.UtcNow);
                producer.Produce(topic, user);
            }

            producer.Flush(cancellationToken);
        }
    }

    private static async Task RunStageAsync(
        MockKafkaCluster cluster, (string Input, string Output, string DeadLetter) topics, BatchLimits limits, CancellationToken cancellationToken)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Kafka:BootstrapServers"] = cluster.BootstrapServers,
            ["Process:InstanceId"] = "benchmark",
            ["Process:ConsumerGroup"] = "processor-" + topics.Input,
            ["Process:InputTopic"] = topics.Input,
            ["Process:OutputTopic"] = topics.Output,
            ["Process:DeadLetterTopic"] = topics.DeadLetter,
            ["Process:Batch:MaxCount"] = limits.MaxCount.ToString(CultureInfo.InvariantCulture),
            ["Process:Batch:MaxBytes"] = limits.MaxBytes.ToString(CultureInfo.InvariantCulture),
            ["Process:Batch:MaxWait"] = limits.MaxWait.ToString("c", CultureInfo.InvariantCulture),
            ["Process:Batch:IdleWait"] = limits.IdleWait.ToString("c", CultureInfo.InvariantCulture),
        });
        builder.Logging.AddConsole().SetMinimumLevel(LogLevel.Warning);
        builder.AddProcessStage();
        using var host = builder.Build();

        // How the stage's transactions went: how many, how large (its own userstream.process.batch.size histogram).
        long transactions = 0, batched = 0;
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Name == "userstream.process.batch.size")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<int>((_, size, _, _) =>
        {
            Interlocked.Increment(ref transactions);
            Interlocked.Add(ref batched, size);
        });
        listener.Start();

        await host.StartAsync(CancellationToken.None);
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        catch (OperationCanceledException)
        {
        }

        await host.StopAsync(CancellationToken.None);
        Console.WriteLine($"stage transactions: {transactions:N0}, {(transactions == 0 ? 0 : batched / (double)transactions):F0} records each on average");
    }

    /// <summary>The baseline: consume a batch, produce each record as it is, wait for the acks, commit the offsets.</summary>
    private static void PassThrough(MockKafkaCluster cluster, (string Input, string Output, string DeadLetter) topics, BatchLimits limits, CancellationToken cancellationToken)
    {
        var clients = new KafkaClientFactory(Options.Create(new KafkaOptions { BootstrapServers = cluster.BootstrapServers }));
        using var consumer = clients.CreateConsumer("pass-through-" + topics.Input, KafkaClientShapes.ReadCommittedManualCommit);
        using var producer = clients.CreateProducer(KafkaClientShapes.Idempotent);
        consumer.Subscribe(topics.Input);
        while (!cancellationToken.IsCancellationRequested)
        {
            var batch = consumer.ConsumeBatch(limits, cancellationToken);
            if (batch.Count == 0)
            {
                continue;
            }

            foreach (var record in batch)
            {
                producer.Produce(topics.Output, new Message<string, byte[]> { Key = record.Message.Key, Value = record.Message.Value, Headers = record.Message.Headers });
            }

            producer.Flush(TimeSpan.FromSeconds(30));
            consumer.Commit(batch.NextOffsets());
        }

        consumer.Close();
    }

    /// <summary>Reads an output topic (read-committed) from the beginning while it is written, counting records and distinct keys.</summary>
    private sealed class OutputCounter(string bootstrapServers, string topic, int expected)
    {
        private readonly HashSet<string> _keys = [];
        private int _total;
        private int _distinct;

        public int Total => Volatile.Read(ref _total);
        public int Distinct => Volatile.Read(ref _distinct);

        public void Run(CancellationToken cancellationToken)
        {
            using var consumer = new ConsumerBuilder<string, byte[]>(new ConsumerConfig
            {
                BootstrapServers = bootstrapServers,
                GroupId = "counter-" + topic,
                EnableAutoCommit = false,
                IsolationLevel = IsolationLevel.ReadCommitted,
            }).Build();
            consumer.Assign(KafkaTopicReader.PartitionsOf(bootstrapServers, topic).Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)));
            while (Distinct < expected && !cancellationToken.IsCancellationRequested)
            {
                if (consumer.Consume(TimeSpan.FromMilliseconds(100)) is { IsPartitionEOF: false } result)
                {
                    Interlocked.Increment(ref _total);
                    if (_keys.Add(result.Message.Key))
                    {
                        Interlocked.Increment(ref _distinct);
                    }
                }
            }

            // Anything that arrives shortly after the last expected output is a duplicate to report.
            var until = DateTime.UtcNow + TimeSpan.FromMilliseconds(500);
            while (DateTime.UtcNow < until && !cancellationToken.IsCancellationRequested)
            {
                if (consumer.Consume(TimeSpan.FromMilliseconds(100)) is { IsPartitionEOF: false })
                {
                    Interlocked.Increment(ref _total);
                }
            }

            consumer.Close();
        }
    }

    /// <summary>Users from the ingest stage's offline generator (randomuser's shape, many scripts), keyed by login.uuid.</summary>
    private static List<Message<string, byte[]>> GenerateUsers(int count)
    {
        const int pageSize = 5_000;
        var generator = UserGenerator.Create();
        return [.. Enumerable.Range(1, (count + pageSize - 1) / pageSize)
            .SelectMany(page => generator.Generate(new PageRequest("process-benchmark", page, Math.Min(pageSize, count - (page - 1) * pageSize))))
            .Select(user => new Message<string, byte[]> { Key = user.Key!, Value = user.Json })];
    }
}
