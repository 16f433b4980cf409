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

    /// <summary>
    /// What most ingest tests start from: a new topic, a new ledger schema, the fake randomuser.me API with
    /// <paramref name="answers"/> queued, and <see cref="Settings"/> for a stage on them (to change before it starts).
    /// </summary>
    public static async Task<IngestScenario> ScenarioAsync(MockKafkaCluster broker, PostgresTestDatabase database, params FakeAnswer[] answers)
    {
        ArgumentNullException.ThrowIfNull(broker);
        ArgumentNullException.ThrowIfNull(database);
        var topic = broker.NewTopic("users-created", partitions: 3);
        var ledger = await database.NewSchemaAsync();
        var api = await FakeRandomUserApi.StartAsync();
        api.Enqueue(answers);
        return new IngestScenario(topic, ledger, api, Settings(broker, ledger, topic, api));
    }
}

/// <summary>An ingest test's topic, ledger (connection string of its own schema), fake API and stage settings.</summary>
public sealed record IngestScenario(string Topic, string Ledger, FakeRandomUserApi Api, Dictionary<string, string?> Settings) : IAsyncDisposable
{
    public ValueTask DisposeAsync() => Api.DisposeAsync();
}
