using System.Runtime.InteropServices;

namespace UserStream.Testing;

/// <summary>
/// P/Invoke of librdkafka's built-in mock cluster (rdkafka_mock.h). The library is the same
/// librdkafka Confluent.Kafka loads: the real librdkafka.redist's where it is restored, otherwise
/// <c>librdkafka.so</c> on LD_LIBRARY_PATH (see eng/librdkafka.sh). Where <c>USERSTREAM_LIBRDKAFKA</c>
/// names a library file (eng/test.sh sets it to the build with our mock patch), the mock cluster is
/// loaded from there even when the real librdkafka.redist was restored: the clients then use the
/// package's library and the brokers the patched one.
/// </summary>
internal static partial class LibRdKafkaMock
{
    private const string Lib = "librdkafka";

    static LibRdKafkaMock()
    {
        if (Environment.GetEnvironmentVariable("USERSTREAM_LIBRDKAFKA") is { Length: > 0 } path)
        {
            NativeLibrary.SetDllImportResolver(
                typeof(LibRdKafkaMock).Assembly,
                (name, _, _) => name == Lib ? NativeLibrary.Load(path) : 0);
        }
    }

    internal const int ProducerType = 0;

    [LibraryImport(Lib)]
    internal static partial nint rd_kafka_conf_new();

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int rd_kafka_conf_set(nint conf, string name, string value, byte[] errstr, nuint errstrSize);

    [LibraryImport(Lib)]
    internal static partial nint rd_kafka_new(int type, nint conf, byte[] errstr, nuint errstrSize);

    [LibraryImport(Lib)]
    internal static partial void rd_kafka_destroy(nint rk);

    [LibraryImport(Lib)]
    internal static partial nint rd_kafka_mock_cluster_new(nint rk, int brokerCount);

    [LibraryImport(Lib)]
    internal static partial void rd_kafka_mock_cluster_destroy(nint cluster);

    [LibraryImport(Lib)]
    internal static partial nint rd_kafka_mock_cluster_bootstraps(nint cluster);

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int rd_kafka_mock_topic_create(nint cluster, string topic, int partitionCount, int replicationFactor);

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int rd_kafka_mock_partition_set_leader(nint cluster, string topic, int partition, int brokerId);

    [LibraryImport(Lib)]
    internal static partial int rd_kafka_mock_broker_set_down(nint cluster, int brokerId);

    [LibraryImport(Lib)]
    internal static partial int rd_kafka_mock_broker_set_up(nint cluster, int brokerId);

    [LibraryImport(Lib)]
    internal static partial int rd_kafka_mock_broker_set_rtt(nint cluster, int brokerId, int rttMs);

    [LibraryImport(Lib)]
    internal static partial void rd_kafka_mock_push_request_errors_array(nint cluster, short apiKey, nuint count, int[] errors);

    [LibraryImport(Lib)]
    internal static partial void rd_kafka_mock_clear_request_errors(nint cluster, short apiKey);

    [LibraryImport(Lib)]
    internal static partial void rd_kafka_mock_group_initial_rebalance_delay_ms(nint cluster, int delayMs);

    [LibraryImport(Lib)]
    internal static partial void rd_kafka_mock_start_request_tracking(nint cluster);

    [LibraryImport(Lib)]
    internal static partial void rd_kafka_mock_stop_request_tracking(nint cluster);

    [LibraryImport(Lib)]
    internal static partial void rd_kafka_mock_clear_requests(nint cluster);

    [LibraryImport(Lib)]
    internal static partial nint rd_kafka_mock_get_requests(nint cluster, out nuint count);

    [LibraryImport(Lib)]
    internal static partial short rd_kafka_mock_request_api_key(nint request);

    [LibraryImport(Lib)]
    internal static partial void rd_kafka_mock_request_destroy_array(nint requests, nuint count);

    [LibraryImport(Lib)]
    internal static partial nint rd_kafka_err2str(int err);
}
