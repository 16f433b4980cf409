namespace UserStream.Tests.Fixtures;

/// <summary>The mock-cluster broker fixture speaks Kafka to real clients and injects faults they notice.</summary>
public sealed class KafkaBrokerTests(KafkaBroker broker) : IClassFixture<KafkaBroker>
{
    [Fact]
    public async Task A_message_round_trips_through_a_consumer_group_with_committed_offsets()
    {
        var topic = broker.NewTopic("roundtrip", partitions: 3);
        var sent = Enumerable.Range(0, 30)
            .Select(i => new Message<string, byte[]> { Key = $"k{i}", Value = Encoding.UTF8.GetBytes($"v{i}") })
            .ToList();
        await KafkaTopicReader.ProduceAsync(broker.BootstrapServers, topic, sent, TestContext.Current.CancellationToken);

        var group = "group-" + Guid.NewGuid().ToString("N");
        var received = ConsumeWithGroup(topic, group, 30, commit: true);
        Assert.Equal(sent.Select(m => m.Key).Order(), received.Select(r => r.Message.Key).Order());

        // The group committed its offsets: a new member of the same group resumes after them.
        await KafkaTopicReader.ProduceAsync(
            broker.BootstrapServers, topic, [new Message<string, byte[]> { Key = "k30", Value = [30] }], TestContext.Current.CancellationToken);
        var again = ConsumeWithGroup(topic, group, 1, commit: false, TimeSpan.FromSeconds(15));
        Assert.Equal(["k30"], again.Select(r => r.Message.Key));
    }

    [Fact]
    public async Task An_injected_broker_outage_is_seen_by_a_producer_and_recovered_from()
    {
        var topic = broker.NewTopic("outage");
        var ct = TestContext.Current.CancellationToken;
        using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig
        {
            BootstrapServers = broker.BootstrapServers,
            EnableIdempotence = true,
            MessageTimeoutMs = 3_000,
            ReconnectBackoffMs = 50,
            ReconnectBackoffMaxMs = 200,
        }).Build();
        await producer.ProduceAsync(topic, new Message<string, byte[]> { Key = "before", Value = [1] }, ct);

        broker.SetBrokerDown();
        try
        {
            var failure = await Assert.ThrowsAsync<ProduceException<string, byte[]>>(
                () => producer.ProduceAsync(topic, new Message<string, byte[]> { Key = "during", Value = [2] }, ct));
            Assert.Equal(ErrorCode.Local_MsgTimedOut, failure.Error.Code);
        }
        finally
        {
            broker.SetBrokerUp();
        }

        var after = await producer.ProduceAsync(topic, new Message<string, byte[]> { Key = "after", Value = [3] }, ct);
        Assert.Equal(PersistenceStatus.Persisted, after.Status);
    }

    [Fact]
    public async Task An_injected_broker_outage_is_reported_to_a_consumer_which_resumes_afterwards()
    {
        var topic = broker.NewTopic("consumer-outage");
        var ct = TestContext.Current.CancellationToken;
        await KafkaTopicReader.ProduceAsync(broker.BootstrapServers, topic, [new Message<string, byte[]> { Key = "before", Value = [1] }], ct);
        var errors = new System.Collections.Concurrent.ConcurrentQueue<Error>();
        using var consumer = new ConsumerBuilder<string, byte[]>(new ConsumerConfig
        {
            BootstrapServers = broker.BootstrapServers,
            GroupId = "outage-" + Guid.NewGuid().ToString("N"),
            EnableAutoCommit = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            ReconnectBackoffMs = 50,
            ReconnectBackoffMaxMs = 200,
        }).SetErrorHandler((_, error) => errors.Enqueue(error)).Build();
        consumer.Assign(new TopicPartitionOffset(topic, 0, Offset.Beginning));
        Assert.Equal("before", ConsumeUntil(consumer, _ => true)?.Message.Key);

        broker.SetBrokerDown();
        try
        {
            var until = DateTime.UtcNow + TimeSpan.FromSeconds(15);
            while (!errors.Any(e => e.Code == ErrorCode.Local_AllBrokersDown) && DateTime.UtcNow < until)
            {
                consumer.Consume(TimeSpan.FromMilliseconds(100));
            }

            Assert.Contains(errors, e => e.Code == ErrorCode.Local_AllBrokersDown);
        }
        finally
        {
            broker.SetBrokerUp();
        }

        await KafkaTopicReader.ProduceAsync(broker.BootstrapServers, topic, [new Message<string, byte[]> { Key = "after", Value = [2] }], ct);
        Assert.Equal("after", ConsumeUntil(consumer, r => r.Message.Key == "after")?.Message.Key);
    }

    [Fact]
    public async Task Injected_request_errors_are_retried_by_an_idempotent_producer_without_duplicates()
    {
        var topic = broker.NewTopic("errors");
        broker.PushRequestErrors(KafkaApi.Produce, ErrorCode.NotEnoughReplicas, ErrorCode.RequestTimedOut, ErrorCode.NotEnoughReplicas);
        var sent = Enumerable.Range(0, 5).Select(i => new Message<string, byte[]> { Key = $"k{i}", Value = [(byte)i] });
        await KafkaTopicReader.ProduceAsync(broker.BootstrapServers, topic, sent, TestContext.Current.CancellationToken);

        var read = KafkaTopicReader.ReadAll(broker.BootstrapServers, topic, 5, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(1));
        Assert.Equal(["k0", "k1", "k2", "k3", "k4"], read.Select(r => r.Message.Key));
    }

    [Fact]
    public async Task Injected_request_errors_reach_a_producer_that_does_not_retry()
    {
        var topic = broker.NewTopic("errors-no-retry");
        var ct = TestContext.Current.CancellationToken;
        using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig
        {
            BootstrapServers = broker.BootstrapServers,
            EnableIdempotence = false,
            MessageSendMaxRetries = 0,
        }).Build();
        await producer.ProduceAsync(topic, new Message<string, byte[]> { Key = "warm", Value = [0] }, ct);

        broker.PushRequestErrors(KafkaApi.Produce, ErrorCode.NotEnoughReplicas);
        var failure = await Assert.ThrowsAsync<ProduceException<string, byte[]>>(
            () => producer.ProduceAsync(topic, new Message<string, byte[]> { Key = "rejected", Value = [1] }, ct));
        Assert.Equal(ErrorCode.NotEnoughReplicas, failure.Error.Code);

        var next = await producer.ProduceAsync(topic, new Message<string, byte[]> { Key = "accepted", Value = [2] }, ct);
        Assert.Equal(PersistenceStatus.Persisted, next.Status);
    }

    [Fact]
    public async Task Injected_latency_delays_acknowledgements()
    {
        var topic = broker.NewTopic("latency");
        using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = broker.BootstrapServers }).Build();
        var ct = TestContext.Current.CancellationToken;
        await producer.ProduceAsync(topic, new Message<string, byte[]> { Key = "warm", Value = [0] }, ct);

        broker.SetLatency(400);
        try
        {
            var started = System.Diagnostics.Stopwatch.StartNew();
            await producer.ProduceAsync(topic, new Message<string, byte[]> { Key = "slow", Value = [1] }, ct);
            Assert.True(started.Elapsed >= TimeSpan.FromMilliseconds(350), $"acknowledged after {started.Elapsed.TotalMilliseconds} ms");
        }
        finally
        {
            broker.SetLatency(0);
        }
    }

    private static ConsumeResult<string, byte[]>? ConsumeUntil(IConsumer<string, byte[]> consumer, Func<ConsumeResult<string, byte[]>, bool> wanted)
    {
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (DateTime.UtcNow < until)
        {
            if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is { IsPartitionEOF: false } result && wanted(result))
            {
                return result;
            }
        }

        return null;
    }

    private List<ConsumeResult<string, byte[]>> ConsumeWithGroup(string topic, string group, int expected, bool commit, TimeSpan? timeout = null)
    {
        using var consumer = new ConsumerBuilder<string, byte[]>(new ConsumerConfig
        {
            BootstrapServers = broker.BootstrapServers,
            GroupId = group,
            EnableAutoCommit = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
        }).Build();
        consumer.Subscribe(topic);
        var received = new List<ConsumeResult<string, byte[]>>();
        var until = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        while (received.Count < expected && DateTime.UtcNow < until)
        {
            if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is { IsPartitionEOF: false } result)
            {
                received.Add(result);
            }
        }

        if (commit && received.Count > 0)
        {
            consumer.Commit();
        }

        consumer.Close();
        return received;
    }
}
