using Npgsql;

namespace UserStream.Streaming.Hosting;

/// <summary>Registration of the toolkit's shared services. Every stage's <c>Add…Stage</c> calls these.</summary>
public static class StreamingServiceCollectionExtensions
{
    /// <summary>
    /// What every stage registers first: its options <typeparamref name="TOptions"/> from section
    /// <paramref name="sectionName"/> (validated at startup), the Kafka clients (section <c>Kafka</c>), its telemetry
    /// (one ActivitySource and Meter named <paramref name="stageName"/>) and the system clock unless one is registered.
    /// </summary>
    public static IServiceCollection AddStage<TOptions>(
        this IServiceCollection services, IConfiguration configuration, string sectionName, string stageName)
        where TOptions : class
    {
        services.AddValidatedOptions<TOptions>(configuration, sectionName);
        services.AddKafkaClients(configuration);
        services.AddStageTelemetry(stageName);
        services.TryAddSingleton(TimeProvider.System);
        services.AddEndpointValidation();
        return services;
    }

    /// <summary>Binds section <paramref name="sectionName"/> to <typeparamref name="TOptions"/>, validated by data annotations at startup.</summary>
    public static OptionsBuilder<TOptions> AddValidatedOptions<TOptions>(
        this IServiceCollection services, IConfiguration configuration, string sectionName)
        where TOptions : class
    {
        return services.AddOptions<TOptions>()
            .Bind(configuration.GetSection(sectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();
    }

    /// <summary>
    /// <see cref="KafkaOptions"/> from section <c>Kafka</c>, falling back to <c>ConnectionStrings:kafka</c>
    /// for the bootstrap servers; and the <see cref="KafkaClientFactory"/>.
    /// </summary>
    public static IServiceCollection AddKafkaClients(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<KafkaOptions>(configuration, KafkaOptions.SectionName)
            .PostConfigure(options =>
            {
                if (string.IsNullOrWhiteSpace(options.BootstrapServers))
                {
                    options.BootstrapServers = KafkaOptions.ResolveBootstrapServers(configuration);
                }
            });
        services.TryAddSingleton<KafkaClientFactory>();
        return services;
    }

    /// <summary>
    /// The pipeline database's <see cref="NpgsqlDataSource"/> from <c>ConnectionStrings:pipeline-db</c>,
    /// unless one is registered already (the Aspire shell registers it through Aspire.Npgsql).
    /// </summary>
    public static IServiceCollection AddPipelineDatabase(this IServiceCollection services, IConfiguration configuration)
    {
        services.TryAddSingleton(_ =>
        {
            var connectionString = configuration.GetConnectionString(ResourceNames.PipelineDatabase);
            if (string.IsNullOrWhiteSpace(connectionString))
            {
                throw new OptionsValidationException(
                    ResourceNames.PipelineDatabase, typeof(NpgsqlDataSource),
                    [$"ConnectionStrings:{ResourceNames.PipelineDatabase} is required."]);
            }

            return NpgsqlDataSource.Create(connectionString);
        });
        return services;
    }

    /// <summary>The stage's <see cref="StageTelemetry"/> (one ActivitySource and Meter named <paramref name="stageName"/>).</summary>
    public static IServiceCollection AddStageTelemetry(this IServiceCollection services, string stageName)
    {
        services.AddMetrics();
        services.TryAddSingleton(sp => new StageTelemetry(stageName, sp.GetRequiredService<IMeterFactory>()));
        return services;
    }

    /// <summary>Name of a stage worker's health check: <c>&lt;worker&gt;-worker</c>.</summary>
    public static string WorkerHealthCheckName(string worker) => $"{worker}-worker";

    /// <summary>
    /// The stage's one <see cref="WorkerHealth"/> (on the stage's meter, see <see cref="AddStageTelemetry"/>) and its
    /// health check <c>&lt;worker&gt;-worker</c>, untagged: part of <c>/health</c> (every check), not of <c>/alive</c> (only the checks tagged <c>live</c>).
    /// </summary>
    public static IServiceCollection AddWorkerHealth(
        this IServiceCollection services, string worker, WorkerMetricNames names, Func<IServiceProvider, WorkerHealthOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => new WorkerHealth(
            worker, sp.GetRequiredService<StageTelemetry>().Meter, names, options(sp).StallAfter, sp.GetRequiredService<TimeProvider>()));
        services.AddHealthChecks().Add(new HealthCheckRegistration(
            WorkerHealthCheckName(worker), sp => sp.GetRequiredService<WorkerHealth>(), HealthStatus.Unhealthy, tags: null));
        return services;
    }
}
