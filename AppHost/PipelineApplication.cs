using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using UserStream.Contracts;

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

        // Configuration sections Kafka, Ingest, Process and Sink of the AppHost are passed on to the services
        // (non-secret settings; secrets belong in parameters or connection strings).
        var kafkaSettings = builder.Configuration.GetSection("Kafka");

        builder.AddProject<Projects.Ingestor>(ResourceNames.Ingestor)
            .WithReference(infrastructure.Kafka).WaitFor(infrastructure.Kafka)
            .WithReference(infrastructure.PipelineDatabase).WaitFor(infrastructure.PipelineDatabase)
            .WithReference(randomUser)
            .WithConfigurationSection(kafkaSettings)
            .WithConfigurationSection(builder.Configuration.GetSection("Ingest"))
            .WithEnvironment(apiKeyVariable, apiKey)
            .WithHttpHealthCheck("/health")
            .WithIngestCommands(apiKey);

        builder.AddProject<Projects.Processor>(ResourceNames.Processor)
            .WithReplicas(settings.ProcessorReplicas)
            .WithReference(infrastructure.Kafka).WaitFor(infrastructure.Kafka)
            .WithConfigurationSection(kafkaSettings)
            .WithConfigurationSection(builder.Configuration.GetSection("Process"))
            .WithEnvironment(apiKeyVariable, apiKey)
            .WithHttpHealthCheck("/health")
            .WithDeadLetterCommands(apiKey);

        builder.AddProject<Projects.Sink>(ResourceNames.Sink)
            .WithReplicas(settings.SinkReplicas)
            .WithReference(infrastructure.Kafka).WaitFor(infrastructure.Kafka)
            .WithReference(infrastructure.SinkStore).WaitFor(infrastructure.SinkStore)
            .WithConfigurationSection(kafkaSettings)
            .WithConfigurationSection(builder.Configuration.GetSection("Sink"))
            .WithEnvironment("Sink__Store", settings.SinkStore)
            .WithHttpHealthCheck("/health")
            .WithStoredUsersLinks();

        return builder;
    }
}
