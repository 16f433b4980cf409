using UserStream.Ingest;
using UserStream.Tests.Infrastructure;

namespace UserStream.Tests.Ingest.Support;

/// <summary>Hosts the ingest stage as the ingestor does, with short timeouts fit for tests.</summary>
public static class IngestTestHost
{
    /// <summary>
    /// Settings for a stage on <paramref name="broker"/> and the database <paramref name="connectionString"/>,
    /// producing to <paramref name="topic"/>, from <paramref name="api"/> (or the generator when null).
    /// The schedule is paused unless a test says otherwise.
    /// </summary>
    public static Dictionary<string, string?> Settings(
        KafkaBroker broker, string connectionString, string topic, FakeRandomUserApi? api = null) => new()
        {
            ["Kafka:BootstrapServers"] = broker.BootstrapServers,
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
        };

    /// <summary>Starts the stage and waits until it is ready (its ledger prepared).</summary>
    public static async Task<IngestStage> StartAsync(
        IReadOnlyDictionary<string, string?> settings, Action<Microsoft.Extensions.Hosting.IHostApplicationBuilder>? configure = null)
    {
        var host = await StageHost.StartAsync(
            settings,
            builder =>
            {
                builder.AddIngestStage();
                configure?.Invoke(builder);
            },
            app => app.MapIngestEndpoints());
        var api = new IngestApiClient(host.CreateClient());
        await api.WaitUntilReadyAsync();
        return new IngestStage(host, api);
    }
}

/// <summary>A hosted ingest stage and a client of its API.</summary>
public sealed class IngestStage(StageHost host, IngestApiClient api) : IAsyncDisposable
{
    public StageHost Host { get; } = host;
    public IngestApiClient Api { get; } = api;

    public ValueTask DisposeAsync() => Host.DisposeAsync();
}
