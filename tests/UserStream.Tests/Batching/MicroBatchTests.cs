namespace UserStream.Tests.Batching;

/// <summary>
/// The micro-batch contract of the toolkit (<see cref="ConsumerBatchExtensions.ConsumeBatch"/>), which the
/// processor and the sink both use: a batch closes when the stream pauses, never exceeds its limits, and
/// hands back what it gathered when cancelled, so that the stage drains it.
/// </summary>
public sealed class MicroBatchTests(KafkaBroker broker) : IClassFixture<KafkaBroker>
{
    /// <summary>Longer than any test may run: a batch that waited for it would make the test time out.</summary>
    private static readonly TimeSpan Forever = TimeSpan.FromMinutes(10);

    [Theory(Timeout = 60_000)]
    [InlineData(0)]
    [InlineData(null)] // the services' default
    public async Task A_batch_closes_when_the_stream_pauses_instead_of_waiting_out_its_time_limit(int? idleWaitMs)
    {
        var ct = TestContext.Current.CancellationToken;
        var topic = await TopicWithAsync(3, ct);
        using var consumer = Consumer(topic);

        // MaxWait is the upper bound only: with a pause after the third record the batches end there.
        var limits = new BatchLimits { MaxCount = 1_000, MaxWait = Forever };
        if (idleWaitMs is { } idleWait)
        {
            limits.IdleWait = TimeSpan.FromMilliseconds(idleWait);
        }

        var received = new List<ConsumeResult<string, byte[]>>();
        while (received.Count < 3)
        {
            var batch = await Task.Run(() => consumer.ConsumeBatch(limits, ct), ct);
            Assert.NotEmpty(batch);
            received.AddRange(batch);
        }

        Assert.Equal(["k0", "k1", "k2"], received.Select(r => r.Message.Key).Order());
    }

    [Fact(Timeout = 60_000)]
    public async Task With_an_idle_wait_as_long_as_its_time_limit_a_batch_stays_open_for_all_of_it()
    {
        var ct = TestContext.Current.CancellationToken;
        var topic = await TopicWithAsync(2, ct);
        using var consumer = Consumer(topic);

        // The behaviour before IdleWait: open until MaxWait, so records produced meanwhile join the batch.
        var limits = new BatchLimits { MaxCount = 1_000, MaxWait = TimeSpan.FromSeconds(4), IdleWait = TimeSpan.FromSeconds(4) };
        var batch = Task.Run(() => consumer.ConsumeBatch(limits, ct), ct);
        await Task.Delay(TimeSpan.FromSeconds(1.5), ct);
        await KafkaTopicReader.ProduceAsync(broker.BootstrapServers, topic, Records(2, 2), ct);

        Assert.Equal(4, (await batch).Count);
    }

    [Theory(Timeout = 60_000)]
    [InlineData(7, 1_000_000)]
    [InlineData(1_000, 3 * 100)]
    public async Task A_batch_never_exceeds_its_count_or_bytes(int maxCount, long maxBytes)
    {
        var ct = TestContext.Current.CancellationToken;
        var topic = await TopicWithAsync(50, ct);
        using var consumer = Consumer(topic);

        var limits = new BatchLimits { MaxCount = maxCount, MaxBytes = maxBytes, MaxWait = TimeSpan.FromSeconds(5), IdleWait = TimeSpan.FromSeconds(1) };
        var received = 0;
        while (received < 50)
        {
            var batch = await Task.Run(() => consumer.ConsumeBatch(limits, ct), ct);
            Assert.NotEmpty(batch);
            Assert.InRange(batch.Count, 1, maxCount);
            Assert.True(batch.Bytes <= maxBytes || batch.Count == 1, $"{batch.Bytes} bytes in {batch.Count} records over {maxBytes}");
            received += batch.Count;
        }

        Assert.Equal(50, received);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_cancelled_batch_hands_back_the_records_it_gathered_for_draining()
    {
        var ct = TestContext.Current.CancellationToken;
        var topic = await TopicWithAsync(3, ct);
        using var consumer = Consumer(topic);
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(ct);

        // Open for ever but for the cancellation: what it gathered comes back, nothing is thrown or lost.
        var limits = new BatchLimits { MaxCount = 1_000, MaxWait = Forever, IdleWait = Forever };
        var batch = Task.Run(() => consumer.ConsumeBatch(limits, stopping.Token), ct);
        await Task.Delay(TimeSpan.FromSeconds(2), ct);
        await stopping.CancelAsync();

        Assert.Equal(["k0", "k1", "k2"], (await batch).Select(r => r.Message.Key).Order());
    }

    [Fact(Timeout = 60_000)]
    public async Task Each_record_is_handed_over_as_it_joins_the_batch_before_the_next_is_consumed()
    {
        var ct = TestContext.Current.CancellationToken;
        var topic = await TopicWithAsync(5, ct);
        using var consumer = Consumer(topic);

        // The processor routes each record here: every record of the batch, once, in order, each before the next one
        // is consumed (the consumer's position then is just past it).
        var limits = new BatchLimits { MaxCount = 1_000, MaxWait = TimeSpan.FromSeconds(5), IdleWait = TimeSpan.FromSeconds(1) };
        var handedOver = new List<(string Key, long Position)>();
        var batch = await Task.Run(
            () => consumer.ConsumeBatch(limits, ct, record => handedOver.Add((record.Message.Key, consumer.Position(record.TopicPartition).Value))),
            ct);

        Assert.Equal(batch.Select(r => r.Message.Key), handedOver.Select(h => h.Key));
        Assert.Equal(batch.Select(r => r.Offset.Value + 1), handedOver.Select(h => h.Position));
    }

    private async Task<string> TopicWithAsync(int records, CancellationToken cancellationToken)
    {
        var topic = broker.NewTopic("batch");
        await KafkaTopicReader.ProduceAsync(broker.BootstrapServers, topic, Records(0, records), cancellationToken);
        return topic;
    }

    /// <summary>Records with keys k{from}.. and 100-byte values.</summary>
    private static IEnumerable<Message<string, byte[]>> Records(int from, int count) =>
        Enumerable.Range(from, count).Select(i => new Message<string, byte[]> { Key = $"k{i}", Value = Encoding.ASCII.GetBytes(new string('x', 100)) });

    private IConsumer<string, byte[]> Consumer(string topic)
    {
        var consumer = new ConsumerBuilder<string, byte[]>(new ConsumerConfig
        {
            BootstrapServers = broker.BootstrapServers,
            GroupId = "batch-" + Guid.NewGuid().ToString("N"),
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoCommit = false,
        }).Build();
        consumer.Assign(new TopicPartitionOffset(topic, 0, Offset.Beginning));
        return consumer;
    }
}
