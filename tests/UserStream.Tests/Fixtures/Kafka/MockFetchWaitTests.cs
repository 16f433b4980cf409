namespace UserStream.Tests.Fixtures;

/// <summary>
/// A Fetch that finds nothing waits at the mock broker as it does at Kafka's: it is answered as soon as data it can
/// return arrives (a produce; for read_committed, the commit that makes it stable), and otherwise after its MaxWait
/// (the consumer's fetch.wait.max.ms), not earlier and not in a loop. Needs librdkafka with
/// eng/librdkafka-mock-transactions.patch (change 7); without it the mock answers a waiting Fetch only when its
/// MaxWait runs out, so that here a record waits about 4.7 s (5 s less the 300 ms pause) instead of milliseconds.
/// </summary>
public sealed class MockFetchWaitTests(KafkaBroker broker, ITestOutputHelper output) : IClassFixture<KafkaBroker>
{
    /// <summary>Long enough that a consumer answered only when its MaxWait ran out cannot pass for a prompt one.</summary>
    private const int LongFetchWaitMs = 5_000;

    /// <summary>
    /// The bound asserted on a record's delivery: the order of magnitude (milliseconds expected, seconds without
    /// change 7), generous for a shared 2-core machine.
    /// </summary>
    private static readonly TimeSpan Prompt = TimeSpan.FromSeconds(1);

    /// <summary>How long after the previous record the next one is written: its consumer's Fetch is parked by then.</summary>
    private static readonly TimeSpan Pause = TimeSpan.FromMilliseconds(300);

    private static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan TransactionTimeout = TimeSpan.FromSeconds(10);
    private const int Rounds = 3;

    [Fact]
    public async Task A_waiting_fetch_is_answered_as_soon_as_a_record_is_produced()
    {
        var ct = TestContext.Current.CancellationToken;
        using var warm = await WarmUpAsync("fetch-wait-produce", transactionalId: null, IsolationLevel.ReadUncommitted, LongFetchWaitMs, ct);
        var (topic, producer, consumer) = warm;

        var latencies = new List<TimeSpan>();
        for (var round = 0; round < Rounds; round++)
        {
            var key = "record-" + round;
            latencies.Add(await DeliveryLatencyAsync(
                consumer, key, () => producer.ProduceAsync(topic, Record(key), ct), ct));
        }

        output.WriteLine(
            $"fetch.wait.max.ms={LongFetchWaitMs}, a record produced {Pause.TotalMilliseconds:0} ms after the previous one " +
            $"was consumed {Milliseconds(latencies)} after its produce started");
        Assert.All(latencies, latency => Assert.True(
            latency < Prompt,
            $"a record was consumed {latency.TotalMilliseconds:0} ms after it was produced: the waiting Fetch was answered " +
            "only when its MaxWait ran out (librdkafka's mock cluster without change 7 does)"));
    }

    [Fact]
    public async Task A_waiting_read_committed_fetch_is_answered_as_soon_as_the_transaction_commits()
    {
        var ct = TestContext.Current.CancellationToken;
        using var warm = await WarmUpAsync("fetch-wait-commit", "tx-" + Guid.NewGuid().ToString("N"), IsolationLevel.ReadCommitted, LongFetchWaitMs, ct);
        var (topic, producer, consumer) = warm;

        var latencies = new List<TimeSpan>();
        for (var round = 0; round < Rounds; round++)
        {
            var key = "committed-" + round;
            producer.BeginTransaction();
            await producer.ProduceAsync(topic, Record(key), ct);

            // Produced but open: the read_committed Fetch, woken by the produce, finds nothing stable and waits on.
            var early = consumer.Consume(Pause);
            Assert.True(early is null or { IsPartitionEOF: true }, $"{early?.Message.Key} was read before its transaction committed");

            latencies.Add(await DeliveryLatencyAsync(
                consumer, key, () => Task.Run(() => producer.CommitTransaction(TransactionTimeout), ct), ct));
        }

        output.WriteLine(
            $"fetch.wait.max.ms={LongFetchWaitMs}, read_committed: a transaction committed {Pause.TotalMilliseconds:0} ms " +
            $"after its record was produced, the record consumed {Milliseconds(latencies)} after the commit started");
        Assert.All(latencies, latency => Assert.True(
            latency < Prompt,
            $"a committed record was consumed {latency.TotalMilliseconds:0} ms after the commit: the waiting Fetch was " +
            "answered only when its MaxWait ran out (librdkafka's mock cluster without change 7 does)"));
    }

    [Fact]
    public async Task A_fetch_with_nothing_arriving_waits_its_max_wait()
    {
        const int fetchWaitMs = 500;
        var ct = TestContext.Current.CancellationToken;
        using var warm = await WarmUpAsync("fetch-wait-idle", transactionalId: null, IsolationLevel.ReadUncommitted, fetchWaitMs, ct);
        var consumer = warm.Consumer;

        var window = TimeSpan.FromSeconds(2);
        broker.StartRequestTracking();
        var until = DateTime.UtcNow + window;
        while (DateTime.UtcNow < until)
        {
            var result = consumer.Consume(TimeSpan.FromMilliseconds(50));
            Assert.True(result is null or { IsPartitionEOF: true }, $"unexpected record {result?.Message.Key}");
        }

        var fetches = broker.RequestCount(KafkaApi.Fetch);
        broker.StopRequestTracking();
        output.WriteLine($"fetch.wait.max.ms={fetchWaitMs}, nothing produced: {fetches} Fetch requests in {window.TotalSeconds:0} s");

        // About window / fetch.wait.max.ms = 4; a Fetch answered at once would make it hundreds.
        Assert.InRange(fetches, 1, 12);
    }

    /// <summary>
    /// Polls <paramref name="consumer"/> while <paramref name="makeVisible"/> (run after <see cref="Pause"/>) writes
    /// the record <paramref name="key"/>; returns the time from the start of <paramref name="makeVisible"/> to the
    /// record's arrival.
    /// </summary>
    private static async Task<TimeSpan> DeliveryLatencyAsync(
        IConsumer<string, byte[]> consumer, string key, Func<Task> makeVisible, CancellationToken ct)
    {
        var started = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        var writer = Task.Run(
            async () =>
            {
                await Task.Delay(Pause, ct);
                started.SetResult(Stopwatch.GetTimestamp());
                await makeVisible();
            },
            ct);

        var until = DateTime.UtcNow + ReadTimeout;
        while (DateTime.UtcNow < until)
        {
            var result = consumer.Consume(TimeSpan.FromMilliseconds(10));
            if (result is not { IsPartitionEOF: false })
            {
                continue;
            }

            var arrived = Stopwatch.GetTimestamp();
            Assert.Equal(key, result.Message.Key);
            Assert.True(started.Task.IsCompleted, $"{key} arrived before it was written");
            await writer;
            return Stopwatch.GetElapsedTime(await started.Task, arrived);
        }

        await writer;
        Assert.Fail($"{key} did not arrive within {ReadTimeout.TotalSeconds:0} s");
        return ReadTimeout;
    }

    private static void ConsumeKey(IConsumer<string, byte[]> consumer, string key)
    {
        var until = DateTime.UtcNow + ReadTimeout;
        while (DateTime.UtcNow < until)
        {
            if (consumer.Consume(TimeSpan.FromMilliseconds(100)) is { IsPartitionEOF: false } result)
            {
                Assert.Equal(key, result.Message.Key);
                return;
            }
        }

        Assert.Fail($"{key} did not arrive within {ReadTimeout.TotalSeconds:0} s");
    }

    /// <summary>
    /// A new one-partition topic, a producer (transactional when given an id) that has written the record
    /// "warm-up" to it (committed, for a transactional one), and a consumer at <paramref name="isolation"/> with
    /// <paramref name="fetchWaitMs"/> that has read it: the consumer's next Fetch finds nothing and waits.
    /// </summary>
    private async Task<WarmTopic> WarmUpAsync(
        string prefix, string? transactionalId, IsolationLevel isolation, int fetchWaitMs, CancellationToken ct)
    {
        var topic = broker.NewTopic(prefix);
        var producer = TestKafka.CreateProducer(broker.BootstrapServers, transactionalId, lingerMs: 0);
        if (transactionalId is not null)
        {
            producer.InitTransactions(TransactionTimeout);
            producer.BeginTransaction();
        }

        await producer.ProduceAsync(topic, Record("warm-up"), ct);
        if (transactionalId is not null)
        {
            producer.CommitTransaction(TransactionTimeout);
        }

        var consumer = Assign(topic, isolation, fetchWaitMs);
        ConsumeKey(consumer, "warm-up");
        return new WarmTopic(topic, producer, consumer);
    }

    private IConsumer<string, byte[]> Assign(string topic, IsolationLevel isolation, int fetchWaitMs)
    {
        var consumer = new ConsumerBuilder<string, byte[]>(new ConsumerConfig
        {
            BootstrapServers = broker.BootstrapServers,
            GroupId = "fetch-wait-" + Guid.NewGuid().ToString("N"),
            EnableAutoCommit = false,
            IsolationLevel = isolation,
            FetchWaitMaxMs = fetchWaitMs,
        }).Build();
        consumer.Assign(new TopicPartitionOffset(topic, 0, Offset.Beginning));
        return consumer;
    }

    private static Message<string, byte[]> Record(string key) => new() { Key = key, Value = Encoding.UTF8.GetBytes(key) };

    private static string Milliseconds(IEnumerable<TimeSpan> latencies) =>
        string.Join(" / ", latencies.Select(l => $"{l.TotalMilliseconds:0} ms"));

    /// <summary>A warmed-up topic with its producer and consumer (see <see cref="WarmUpAsync"/>); disposes both.</summary>
    private sealed record WarmTopic(string Topic, IProducer<string, byte[]> Producer, IConsumer<string, byte[]> Consumer) : IDisposable
    {
        public void Dispose()
        {
            Consumer.Dispose();
            Producer.Dispose();
        }
    }
}
