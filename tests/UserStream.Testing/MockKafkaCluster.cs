using System.Runtime.InteropServices;
using System.Text;
using Confluent.Kafka;
using UserStream.Contracts;

namespace UserStream.Testing;

/// <summary>
/// An in-process Kafka cluster: librdkafka's mock brokers listening on 127.0.0.1, speaking the Kafka
/// wire protocol (idempotent and transactional producers, consumer groups, offset commits), with fault
/// injection. Data lives in memory: at most 5 MiB or 100,000 messages per partition.
/// Tests use it as the class fixture <c>KafkaBroker</c>; benchmarks start it directly.
/// </summary>
public class MockKafkaCluster : IAsyncDisposable
{
    private nint _handle;
    private nint _cluster;

    /// <summary>Brokers in the cluster (ids 1..3).</summary>
    public int BrokerCount { get; } = 3;

    /// <summary>host:port list of the mock brokers.</summary>
    public string BootstrapServers { get; private set; } = "";

    public ValueTask InitializeAsync()
    {
        try
        {
            Start();
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            throw new InvalidOperationException(
                "The Kafka mock broker needs librdkafka >= 2.15 with rd_kafka_mock_* exported. " +
                "Run the README's test command (eng/test.sh), which builds it and puts it on LD_LIBRARY_PATH.", e);
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>Starts a cluster outside a test framework (benchmarks).</summary>
    public static async Task<MockKafkaCluster> StartAsync()
    {
        var cluster = new MockKafkaCluster();
        await cluster.InitializeAsync();
        return cluster;
    }

    private void Start()
    {
        var errors = new byte[512];
        var conf = LibRdKafkaMock.rd_kafka_conf_new();
        // The handle only owns the mock cluster; keep it quiet.
        LibRdKafkaMock.rd_kafka_conf_set(conf, "log_level", "3", errors, (nuint)errors.Length);
        _handle = LibRdKafkaMock.rd_kafka_new(LibRdKafkaMock.ProducerType, conf, errors, (nuint)errors.Length);
        if (_handle == 0)
        {
            throw new InvalidOperationException($"rd_kafka_new failed: {Encoding.UTF8.GetString(errors).TrimEnd('\0')}");
        }

        _cluster = LibRdKafkaMock.rd_kafka_mock_cluster_new(_handle, BrokerCount);
        if (_cluster == 0)
        {
            throw new InvalidOperationException("rd_kafka_mock_cluster_new failed");
        }

        // Consumer groups form at once instead of after the default 3 s delay.
        LibRdKafkaMock.rd_kafka_mock_group_initial_rebalance_delay_ms(_cluster, 0);
        BootstrapServers = Marshal.PtrToStringUTF8(LibRdKafkaMock.rd_kafka_mock_cluster_bootstraps(_cluster))!;
    }

    /// <summary>Creates a topic (the mock does not support CreateTopics requests).</summary>
    public void CreateTopic(string name, int partitions = 3, int replicationFactor = 1) =>
        Check(LibRdKafkaMock.rd_kafka_mock_topic_create(_cluster, name, partitions, Math.Min(replicationFactor, BrokerCount)), $"create topic {name}");

    /// <summary>
    /// Makes broker <c>p % BrokerCount + 1</c> the leader of partition <c>p</c> of <paramref name="topic"/>: the same spread
    /// for every topic (the mock otherwise places a new topic's leaders from a random first broker), so that two
    /// measurements on fresh topics meet the same layout. Call it before clients use the topic.
    /// </summary>
    public void SpreadLeaders(string topic, int partitions)
    {
        for (var partition = 0; partition < partitions; partition++)
        {
            Check(LibRdKafkaMock.rd_kafka_mock_partition_set_leader(_cluster, topic, partition, partition % BrokerCount + 1), $"set the leader of {topic} [{partition}]");
        }
    }

    /// <summary>Creates a topic of its own for one test, <c>{prefix}-{a new guid}</c>, and returns its name.</summary>
    public string NewTopic(string prefix, int partitions = 1)
    {
        var name = prefix + "-" + Guid.NewGuid().ToString("N");
        CreateTopic(name, partitions);
        return name;
    }

    /// <summary>
    /// Creates the pipeline's topics: <c>users_created</c> and <c>users_enriched</c> with <paramref name="partitions"/>
    /// each, <c>users_dlq</c> with <paramref name="deadLetterPartitions"/>, and the dead letters' replay markers
    /// <c>users_dlq_replays</c> with 1 (compacted on Kafka; the mock keeps every record).
    /// </summary>
    public void CreatePipelineTopics(int partitions, int deadLetterPartitions)
    {
        CreateTopic(Topics.UsersCreated, partitions);
        CreateTopic(Topics.UsersEnriched, partitions);
        CreateTopic(Topics.DeadLetter, deadLetterPartitions);
        CreateTopic(Topics.DeadLetterReplays, 1);
    }

    /// <summary>Disconnects broker <paramref name="brokerId"/> (1-based; -1 for all) and refuses new connections.</summary>
    public void SetBrokerDown(int brokerId = -1) =>
        Check(LibRdKafkaMock.rd_kafka_mock_broker_set_down(_cluster, brokerId), $"set broker {brokerId} down");

    /// <summary>Makes broker <paramref name="brokerId"/> (-1 for all) accept connections again.</summary>
    public void SetBrokerUp(int brokerId = -1) =>
        Check(LibRdKafkaMock.rd_kafka_mock_broker_set_up(_cluster, brokerId), $"set broker {brokerId} up");

    /// <summary>Adds <paramref name="rttMs"/> of latency to every response of broker <paramref name="brokerId"/> (-1 for all).</summary>
    public void SetLatency(int rttMs, int brokerId = -1) =>
        Check(LibRdKafkaMock.rd_kafka_mock_broker_set_rtt(_cluster, brokerId, rttMs), "set latency");

    /// <summary>The next requests of type <paramref name="api"/> fail with <paramref name="errors"/>, in order.</summary>
    public void PushRequestErrors(KafkaApi api, params ErrorCode[] errors) =>
        LibRdKafkaMock.rd_kafka_mock_push_request_errors_array(
            _cluster, (short)api, (nuint)errors.Length, [.. errors.Select(e => (int)e)]);

    /// <summary>Drops the errors still queued for <paramref name="api"/>.</summary>
    public void ClearRequestErrors(KafkaApi api) => LibRdKafkaMock.rd_kafka_mock_clear_request_errors(_cluster, (short)api);

    /// <summary>
    /// Starts recording the requests the brokers receive, forgetting those recorded before;
    /// <see cref="RequestCount"/> counts them. Recording covers every client of this cluster.
    /// </summary>
    public void StartRequestTracking()
    {
        LibRdKafkaMock.rd_kafka_mock_clear_requests(_cluster);
        LibRdKafkaMock.rd_kafka_mock_start_request_tracking(_cluster);
    }

    /// <summary>Stops recording requests and forgets those recorded (count them before).</summary>
    public void StopRequestTracking() => LibRdKafkaMock.rd_kafka_mock_stop_request_tracking(_cluster);

    /// <summary>How many requests of type <paramref name="api"/> were recorded (see <see cref="StartRequestTracking"/>).</summary>
    public int RequestCount(KafkaApi api)
    {
        var requests = LibRdKafkaMock.rd_kafka_mock_get_requests(_cluster, out var count);
        try
        {
            var matching = 0;
            for (var i = 0; i < (int)count; i++)
            {
                if (LibRdKafkaMock.rd_kafka_mock_request_api_key(Marshal.ReadIntPtr(requests, i * IntPtr.Size)) == (short)api)
                {
                    matching++;
                }
            }

            return matching;
        }
        finally
        {
            LibRdKafkaMock.rd_kafka_mock_request_destroy_array(requests, count);
        }
    }

    public ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        if (_cluster != 0)
        {
            LibRdKafkaMock.rd_kafka_mock_cluster_destroy(_cluster);
            _cluster = 0;
        }

        if (_handle != 0)
        {
            LibRdKafkaMock.rd_kafka_destroy(_handle);
            _handle = 0;
        }

        return ValueTask.CompletedTask;
    }

    private static void Check(int error, string what)
    {
        if (error != 0)
        {
            throw new InvalidOperationException(
                $"mock cluster: {what} failed: {Marshal.PtrToStringUTF8(LibRdKafkaMock.rd_kafka_err2str(error))}");
        }
    }
}
