using UserStream.Ingest.Endpoints;
using UserStream.Ingest.Producing;
using UserStream.Ingest.Sources.Generator;
using UserStream.Ingest.Sources.RandomUser;

namespace UserStream.Ingest;

/// <summary>The ingest stage's public face: what the ingestor service (and tests) call.</summary>
public static class IngestStageExtensions
{
    /// <summary>
    /// Name of the randomuser HttpClient, for a host that wants to adjust it (e.g. the Aspire shell removing
    /// the standard resilience handler, since the client retries and times out on its own).
    /// </summary>
    public const string RandomUserHttpClientName = "randomuser";

    /// <summary>
    /// Adds the ingest stage: options (section <c>Ingest</c>, validated at startup), the randomuser typed
    /// HttpClient and the generator, the idempotent producer, the run ledger in the pipeline database,
    /// the run coordinator and the scheduler (hosted services), and the <c>ingest</c> health check.
    /// </summary>
    public static IHostApplicationBuilder AddIngestStage(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        var configuration = builder.Configuration;

        services.AddStage<IngestOptions>(configuration, IngestOptions.SectionName, StageTelemetry.Ingest);
        services.AddPipelineDatabase(configuration);
        services.AddApiKeyProtection(configuration);
        services.TryAddSingleton<IngestMetrics>();

        // Sources: a typed client, so the host's HttpClient defaults (service discovery…) apply to it.
        services.AddHttpClient<RandomUserClient>(RandomUserHttpClientName, (sp, client) =>
        {
            var randomUser = sp.GetRequiredService<IOptions<IngestOptions>>().Value.RandomUser;
            client.BaseAddress = new Uri(randomUser.BaseAddress.EndsWith('/') ? randomUser.BaseAddress : randomUser.BaseAddress + "/");
            // A backstop only: each attempt is bounded by AttemptTimeout (Polly).
            client.Timeout = randomUser.AttemptTimeout + TimeSpan.FromSeconds(5);
        });
        services.TryAddSingleton<UserGenerator>();
        services.TryAddTransient<IUserSource>(sp =>
            sp.GetRequiredService<IOptions<IngestOptions>>().Value.Source == IngestSourceKind.Generator
                ? sp.GetRequiredService<UserGenerator>()
                : sp.GetRequiredService<RandomUserClient>());

        services.TryAddSingleton<UserProducer>();
        services.TryAddSingleton<LedgerSchema>();
        services.TryAddSingleton<RunLedger>();
        services.TryAddSingleton<ScheduleStore>();
        services.TryAddSingleton<ScheduleState>();
        services.TryAddSingleton<IngestReadiness>();
        services.TryAddSingleton<RunExecutor>();
        services.TryAddSingleton<RunCoordinator>();

        // Stopped in reverse order: the scheduler first, then the coordinator drains the run in progress.
        services.AddHostedService(sp => sp.GetRequiredService<RunCoordinator>());
        services.AddHostedService<IngestScheduler>();

        services.AddHealthChecks().AddCheck<IngestReadiness>("ingest");
        return builder;
    }

    /// <summary>
    /// Maps the ingest API: <c>POST /runs</c>, <c>GET /runs</c>, <c>GET /runs/{id}</c>,
    /// <c>GET /schedule</c>, <c>PUT /schedule</c>; the two that change something require the API key when one is
    /// configured (<c>Api:Key</c>).
    /// </summary>
    public static IEndpointRouteBuilder MapIngestEndpoints(this IEndpointRouteBuilder endpoints) =>
        IngestEndpoints.Map(endpoints);
}
