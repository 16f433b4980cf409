using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Confluent.Kafka;
using UserStream.Ingest.Endpoints;

namespace UserStream.AppHost.Tests.Infrastructure;

/// <summary>What a user of the running pipeline does: start a run, ask the sink how many users it holds, look at the dead letters.</summary>
internal static class PipelineClients
{
    /// <summary>The pipeline's three services, in flow order.</summary>
    public static readonly string[] Services = [ResourceNames.Ingestor, ResourceNames.Processor, ResourceNames.Sink];

    /// <summary>
    /// Starts an ingestion run of <paramref name="users"/> users (<c>POST /runs</c> on the ingestor, with the API key),
    /// asking again while the API answers 409 (the previous run is still being released) or 503 (not ready), as it invites.
    /// </summary>
    public static async Task<RunView> StartRunAsync(DistributedApplication app, int users, CancellationToken cancellationToken)
    {
        using var ingestor = await IngestorAsync(app, cancellationToken);
        return await ingestor.StartRunAsync(users, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(200), cancellationToken);
    }

    /// <summary>The shared ingest API client on the ingestor's endpoint, sending the AppHost's API key.</summary>
    private static async Task<IngestApiClient> IngestorAsync(DistributedApplication app, CancellationToken cancellationToken)
    {
        var http = app.CreateHttpClient(ResourceNames.Ingestor);
        http.DefaultRequestHeaders.Add(ApiKeys.Header, await ApiKeyAsync(app, cancellationToken));
        return new IngestApiClient(http);
    }

    /// <summary>The API key the AppHost gives the services (its secret parameter <c>api-key</c>).</summary>
    public static async Task<string> ApiKeyAsync(DistributedApplication app, CancellationToken cancellationToken) =>
        await app.Services.GetRequiredService<DistributedApplicationModel>().Resources.OfType<ParameterResource>()
            .Single(p => p.Name == ResourceNames.ApiKey).GetValueAsync(cancellationToken) ?? "";

    /// <summary>Starts a run and waits until the sink holds exactly its users more than before (or patience ran out); returns the count.</summary>
    public static async Task<(RunView Run, long Stored)> RunAndStoreAsync(
        DistributedApplication app, int users, TimeSpan patience, CancellationToken cancellationToken)
    {
        var before = await StoredUsersAsync(app, cancellationToken);
        var run = await StartRunAsync(app, users, cancellationToken);
        var stored = await Eventually.Async(t => StoredUsersAsync(app, t), n => n >= before + users, patience, Eventually.WholeAppInterval, cancellationToken);
        return (run, stored - before);
    }

    /// <summary>
    /// Waits until the ingestor's latest run (<c>GET /runs?limit=1</c>) has ended and returns how many users it
    /// produced, so that a test leaves no run going into the next.
    /// </summary>
    public static async Task<int> LatestRunEndedAsync(DistributedApplication app, TimeSpan patience, CancellationToken cancellationToken)
    {
        using var ingestor = await IngestorAsync(app, cancellationToken);
        var latest = await Eventually.Async(
            async t => (await ingestor.ListAsync(1, t)).Single(),
            run => run.Status != "running",
            patience,
            Eventually.WholeAppInterval,
            cancellationToken);
        Assert.NotEqual("running", latest.Status);
        return latest.Produced;
    }

    /// <summary>The number of users the sink's store holds (<c>GET /users/count</c>: a number, or an object with <c>count</c>).</summary>
    public static async Task<long> StoredUsersAsync(DistributedApplication app, CancellationToken cancellationToken)
    {
        using var sink = app.CreateHttpClient(ResourceNames.Sink);
        using var document = JsonDocument.Parse(await sink.GetStringAsync(new Uri("/users/count", UriKind.Relative), cancellationToken));
        var root = document.RootElement;
        return root.ValueKind == JsonValueKind.Number ? root.GetInt64() : root.GetProperty("count").GetInt64();
    }

    /// <summary>The services (<c>service.name</c>) that took part in each trace, by trace id.</summary>
    public static Dictionary<string, HashSet<string>> ServicesByTrace(IEnumerable<ReceivedSpan> spans) =>
        spans.GroupBy(s => s.TraceId).ToDictionary(t => t.Key, t => t.Select(s => s.Service).ToHashSet(StringComparer.Ordinal));

    /// <summary>Committed records in users_dlq, read from the beginning of every partition.</summary>
    public static async Task<int> DeadLettersAsync(DistributedApplication app, CancellationToken cancellationToken)
    {
        var bootstrapServers = await app.GetConnectionStringAsync(ResourceNames.Kafka, cancellationToken)
            ?? throw new InvalidOperationException("The kafka resource has no connection string.");

        return await Task.Run(() => CountCommittedRecords(bootstrapServers, Topics.DeadLetter, cancellationToken), cancellationToken);
    }

    private static int CountCommittedRecords(string bootstrapServers, string topic, CancellationToken cancellationToken)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrapServers }).Build();
        var partitions = admin.GetMetadata(topic, TimeSpan.FromSeconds(10)).Topics.Single().Partitions
            .Select(p => new TopicPartitionOffset(topic, p.PartitionId, Offset.Beginning))
            .ToList();

        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig
        {
            BootstrapServers = bootstrapServers,
            GroupId = $"apphost-tests-{Guid.NewGuid():N}",
            IsolationLevel = IsolationLevel.ReadCommitted,
            EnablePartitionEof = true,
            EnableAutoCommit = false,
        }).Build();
        consumer.Assign(partitions);

        var records = 0;
        var atEnd = new HashSet<int>();
        while (atEnd.Count < partitions.Count)
        {
            var result = consumer.Consume(cancellationToken);
            if (result.IsPartitionEOF)
            {
                atEnd.Add(result.Partition.Value);
            }
            else
            {
                records++;
            }
        }

        return records;
    }
}
