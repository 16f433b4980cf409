using UserStream.AppHost;
using UserStream.Contracts;

var builder = DistributedApplication.CreateBuilder(args);

var settings = PipelineSettings.From(builder.Configuration);
var infrastructure = settings.UseExistingInfrastructure
    ? PipelineInfrastructure.Existing(builder, settings)
    : PipelineInfrastructure.Containers(builder, settings);

var randomUser = builder.AddExternalService(ResourceNames.RandomUser, settings.RandomUserUrl);

// Configuration sections Kafka, Ingest, Process and Sink of the AppHost are passed on to the services
// (non-secret settings; secrets belong in parameters or connection strings).
var kafkaSettings = builder.Configuration.GetSection("Kafka");

builder.AddProject<Projects.Ingestor>(ResourceNames.Ingestor)
    .WithReference(infrastructure.Kafka).WaitFor(infrastructure.Kafka)
    .WithReference(infrastructure.PipelineDatabase).WaitFor(infrastructure.PipelineDatabase)
    .WithReference(randomUser)
    .WithConfigurationSection(kafkaSettings)
    .WithConfigurationSection(builder.Configuration.GetSection("Ingest"))
    .WithHttpHealthCheck("/health");

builder.AddProject<Projects.Processor>(ResourceNames.Processor)
    .WithReplicas(settings.ProcessorReplicas)
    .WithReference(infrastructure.Kafka).WaitFor(infrastructure.Kafka)
    .WithConfigurationSection(kafkaSettings)
    .WithConfigurationSection(builder.Configuration.GetSection("Process"))
    .WithHttpHealthCheck("/health");

builder.AddProject<Projects.Sink>(ResourceNames.Sink)
    .WithReplicas(settings.SinkReplicas)
    .WithReference(infrastructure.Kafka).WaitFor(infrastructure.Kafka)
    .WithReference(infrastructure.SinkStore).WaitFor(infrastructure.SinkStore)
    .WithConfigurationSection(kafkaSettings)
    .WithConfigurationSection(builder.Configuration.GetSection("Sink"))
    .WithEnvironment("Sink__Store", settings.SinkStore)
    .WithHttpHealthCheck("/health");

builder.Build().Run();
