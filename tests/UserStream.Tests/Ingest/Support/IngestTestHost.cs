namespace UserStream.Tests.Ingest.Support;

/// <summary>The ingest stage's settings for its own tests (started with <see cref="StageHost.StartIngestAsync"/>): short timeouts.</summary>
public static class IngestTestHost
{
    /// <summary>
    /// Settings for a stage on <paramref name="broker"/> and the database <paramref name="connectionString"/>,
    /// producing to <paramref name="topic"/>, from <paramref name="api"/> (or the generator when null).
    /// The schedule is paused unless a test says otherwise.
    /// </summary>
    public static Dictionary<string, string?> Settings(
        MockKafkaCluster broker, string connectionString, string topic, FakeRandomUserApi? api = null) =>
        PipelineRig.With(TestKafka.StageSettings(broker.BootstrapServers), new Dictionary<string, string?>
        {
            ["ConnectionStrings:pipeline-db"] = connectionString,
            ["Ingest:Topic"] = topic,
            ["Ingest:Source"] = api is null ? "Generator" : "RandomUser",
            ["Ingest:RandomUser:BaseAddress"] = api?.BaseAddress.ToString() ?? "http://127.0.0.1:9/",
            ["Ingest:RandomUser:AttemptTimeout"] = "00:00:01",
            ["Ingest:RandomUser:MaxRetries"] = "2",
            ["Ingest:RandomUser:RetryBaseDelay"] = "00:00:00.020",
            ["Ingest:RandomUser:RetryMaxDelay"] = "00:00:00.100",
            ["Ingest:Schedule:Interval"] = "00:00:01",
            ["Ingest:Schedule:Size"] = "5",
            ["Ingest:Schedule:Paused"] = "true",
            ["Ingest:MaxRunSize"] = "1000",
            ["Ingest:DeliveryTimeout"] = "00:00:20",
            ["Ingest:DrainTimeout"] = "00:00:05",
        });
}
