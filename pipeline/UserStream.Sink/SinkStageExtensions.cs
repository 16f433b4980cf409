using UserStream.Sink.Api;
using UserStream.Sink.Store.Postgres;

namespace UserStream.Sink;

/// <summary>The sink stage's public face: what its service (and the tests) call.</summary>
public static class SinkStageExtensions
{
    /// <summary>
    /// Registers the sink: options (section <c>Sink</c>, validated at start), Kafka clients, telemetry, the
    /// store (PostgreSQL unless an <see cref="IUserStore"/> is registered already), schema creation at start,
    /// the consume loop and its health checks (<c>sink-worker</c>, and <c>sink-store</c>: the store answers).
    /// </summary>
    public static IHostApplicationBuilder AddSinkStage(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        var configuration = builder.Configuration;

        services.AddStage<SinkOptions>(configuration, SinkOptions.SectionName, StageTelemetry.Sink);

        AddStore(services, configuration);

        services.TryAddSingleton<StoreReadiness>();
        services.TryAddSingleton<SinkTracing>();
        services.TryAddSingleton<SinkMetrics>();
        services.AddWorkerHealth(SinkWorker.Name, SinkMetrics.Worker, sp => sp.GetRequiredService<IOptions<SinkOptions>>().Value.Health);
        services.AddHealthChecks().AddCheck<StoreHealthCheck>(StoreHealthCheck.Name, HealthStatus.Unhealthy);
        services.TryAddSingleton<DeadLetterProducer>();
        services.TryAddSingleton<BatchWriter>();
        services.AddHostedService<StoreInitializer>();
        services.AddHostedService<SinkWorker>();
        return builder;
    }

    /// <summary>Maps the query endpoints over the store: <c>GET /users/{id}</c>, <c>GET /users?limit=N</c>, <c>GET /users/count</c>.</summary>
    public static IEndpointRouteBuilder MapSinkEndpoints(this IEndpointRouteBuilder endpoints) => UsersEndpoints.Map(endpoints);

    private static void AddStore(IServiceCollection services, IConfiguration configuration)
    {
        var kind = SinkOptions.StoreOf(configuration);
        if (kind == SinkStoreKind.Postgres)
        {
            services.AddPipelineDatabase(configuration);
            services.TryAddSingleton<IUserStore, PostgresUserStore>();
        }
        else if (!services.Any(d => d.ServiceType == typeof(IUserStore)))
        {
            throw new InvalidOperationException(
                $"Sink:Store is {kind} but no {nameof(IUserStore)} is registered; register it before calling AddSinkStage().");
        }
    }
}
