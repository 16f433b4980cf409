using Aspire.Hosting;

namespace UserStream.AppHost;

/// <summary>The UserStream application model, on any distributed application builder (the AppHost's, or a test's).</summary>
public static class PipelineApplication
{
    /// <summary>
    /// Adds Kafka, the pipeline database and the sink's store (containers, or existing ones given as connection
    /// strings with <c>Pipeline:UseExistingInfrastructure</c>), randomuser.me, and the ingestor, processor and sink
    /// with their references, waits, health checks, replicas, configuration and dashboard commands. Reads and
    /// validates section <c>Pipeline</c> first: a bad value throws with a message naming the key.
    /// </summary>
    public static IDistributedApplicationBuilder AddUserStreamPipeline(this IDistributedApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);

        var settings = PipelineSettings.From(builder.Configuration);
        var infrastructure = settings.UseExistingInfrastructure
            ? PipelineInfrastructure.Existing(builder, settings)
            : PipelineInfrastructure.Containers(builder, settings);

        var randomUser = builder.AddExternalService(ResourceNames.RandomUser, settings.RandomUserUrl);

        // The key of the services' mutating endpoints: generated once and kept in the AppHost's user secrets
        // (or given as Parameters:api-key); the dashboard's commands send it.
        var apiKey = builder.AddParameter(
            ResourceNames.ApiKey, new GenerateParameterDefault { MinLength = 32, Special = false }, secret: true, persist: true);
        const string apiKeyVariable = "Api__Key";

        builder.AddStage<Projects.Ingestor>(ResourceNames.Ingestor, "Ingest", infrastructure.Kafka)
            .WithReference(infrastructure.PipelineDatabase).WaitFor(infrastructure.PipelineDatabase)
            .WithReference(randomUser)
            .WithEnvironment(apiKeyVariable, apiKey)
            .WithIngestCommands(apiKey);

        builder.AddStage<Projects.Processor>(ResourceNames.Processor, "Process", infrastructure.Kafka)
            .WithReplicas(settings.ProcessorReplicas)
            .WithEnvironment(apiKeyVariable, apiKey)
            .WithDeadLetterCommands(apiKey);

        builder.AddStage<Projects.Sink>(ResourceNames.Sink, "Sink", infrastructure.Kafka)
            .WithReplicas(settings.SinkReplicas)
            .WithReference(infrastructure.SinkStore).WaitFor(infrastructure.SinkStore)
            .WithEnvironment("Sink__Store", settings.SinkStore)
            .WithStoredUsersLinks();

        return builder;
    }

    /// <summary>
    /// A stage's service: Kafka referenced and waited for, the AppHost's configuration sections <c>Kafka</c> and
    /// <paramref name="section"/> passed on (non-secret settings; secrets belong in parameters or connection strings),
    /// and its <c>/health</c> as the resource's health check.
    /// </summary>
    private static IResourceBuilder<ProjectResource> AddStage<TProject>(
        this IDistributedApplicationBuilder builder, string name, string section, IResourceBuilder<IResourceWithConnectionString> kafka)
        where TProject : IProjectMetadata, new() =>
        builder.AddProject<TProject>(name)
            .WithReference(kafka).WaitFor(kafka)
            .WithConfigurationSection(builder.Configuration.GetSection("Kafka"))
            .WithConfigurationSection(builder.Configuration.GetSection(section))
            .WithHttpHealthCheck("/health");
}
