using Aspire.Hosting.Postgres;
using UserStream.AppHost.Tests.Infrastructure;

namespace UserStream.AppHost.Tests;

/// <summary>
/// The application model a user's <c>dotnet run --project AppHost</c> builds, in both modes, read without a
/// container engine. The assertions are the AppHost's own decisions (which resources, how the services are
/// wired, what they receive), never what an integration package chooses for itself (its image tags, its
/// endpoints' names).
/// </summary>
public sealed class ModelTests
{
    [Fact]
    public async Task Container_mode_runs_kafka_with_its_ui_postgres_with_pgadmin_cassandra_and_the_three_services()
    {
        await using var app = await AppModel.ContainersAsync();

        Assert.IsType<KafkaServerResource>(app.Resource(ResourceNames.Kafka));
        Assert.Single(app.Model.Resources.OfType<KafkaUIContainerResource>());
        Assert.IsType<PostgresServerResource>(app.Resource("postgres"));
        Assert.Single(app.Model.Resources.OfType<PgAdminContainerResource>());
        Assert.IsType<CassandraResource>(app.Resource(ResourceNames.Cassandra));
        Assert.IsType<ExternalServiceResource>(app.Resource(ResourceNames.RandomUser));
        foreach (var service in PipelineClients.Services)
        {
            Assert.IsType<ProjectResource>(app.Resource(service), exactMatch: false);
        }
    }

    [Fact]
    public async Task Existing_infrastructure_mode_starts_no_container_and_takes_every_connection_as_a_connection_string()
    {
        await using var app = await AppModel.ExistingAsync();

        Assert.Empty(app.Model.Resources.OfType<ContainerResource>());
        foreach (var connection in new[] { ResourceNames.Kafka, ResourceNames.PipelineDatabase, ResourceNames.Cassandra })
        {
            var resource = app.Resource<IResourceWithConnectionString>(connection);
            Assert.Equal($"{{{connection}.connectionString}}", resource.ConnectionStringExpression.ValueExpression);
        }

        var connectionString = await app.Resource<IResourceWithConnectionString>(ResourceNames.Kafka)
            .ConnectionStringExpression.GetValueAsync(TestContext.Current.CancellationToken);
        Assert.Equal("broker-1:9092,broker-2:9092", connectionString);
    }

    [Fact]
    public async Task Existing_infrastructure_with_the_postgres_store_needs_no_cassandra()
    {
        await using var app = await AppModel.ExistingAsync("--Pipeline:SinkStore=postgres");

        Assert.DoesNotContain(app.Model.Resources, r => r.Name == ResourceNames.Cassandra);
        var sink = app.Resource(ResourceNames.Sink);
        Assert.Equal(WaitType.WaitUntilHealthy, AppModel.Waits(sink)[ResourceNames.PipelineDatabase]);
        var environment = await app.EnvironmentAsync(sink);
        Assert.Equal("postgres", environment["Sink__Store"]);
        Assert.Equal("{pipeline-db.connectionString}", environment["ConnectionStrings__pipeline-db"]);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Each_service_references_waits_for_and_is_health_checked_as_its_stage_needs(bool existing)
    {
        await using var app = existing ? await AppModel.ExistingAsync() : await AppModel.ContainersAsync();

        var ingestor = app.Resource(ResourceNames.Ingestor);
        var processor = app.Resource(ResourceNames.Processor);
        var sink = app.Resource(ResourceNames.Sink);

        // What each waits for until healthy: its Kafka and its database; never another service.
        Assert.Equal(WaitType.WaitUntilHealthy, AppModel.Waits(ingestor)[ResourceNames.Kafka]);
        Assert.Equal(WaitType.WaitUntilHealthy, AppModel.Waits(ingestor)[ResourceNames.PipelineDatabase]);
        Assert.Equal([ResourceNames.Kafka], AppModel.Waits(processor).Keys);
        Assert.Equal(WaitType.WaitUntilHealthy, AppModel.Waits(sink)[ResourceNames.Kafka]);
        Assert.Equal(WaitType.WaitUntilHealthy, AppModel.Waits(sink)[ResourceNames.Cassandra]);
        Assert.DoesNotContain(AppModel.Waits(ingestor).Keys, PipelineClients.Services.Contains);
        Assert.DoesNotContain(AppModel.Waits(sink).Keys, PipelineClients.Services.Contains);

        // The connections each one receives, and only those.
        var ingestorEnvironment = await app.EnvironmentAsync(ingestor);
        var processorEnvironment = await app.EnvironmentAsync(processor);
        var sinkEnvironment = await app.EnvironmentAsync(sink);
        Assert.Equal("{kafka.connectionString}", ingestorEnvironment["ConnectionStrings__kafka"]);
        Assert.Equal("{pipeline-db.connectionString}", ingestorEnvironment["ConnectionStrings__pipeline-db"]);
        Assert.Equal("https://randomuser.me/", ingestorEnvironment["services__randomuser__https__0"]);
        Assert.Equal("{kafka.connectionString}", processorEnvironment["ConnectionStrings__kafka"]);
        Assert.DoesNotContain(processorEnvironment.Keys, k => k.StartsWith("ConnectionStrings__pipeline", StringComparison.Ordinal));
        Assert.Equal("{kafka.connectionString}", sinkEnvironment["ConnectionStrings__kafka"]);
        Assert.Equal("{cassandra.connectionString}", sinkEnvironment["ConnectionStrings__cassandra"]);
        Assert.Equal("cassandra", sinkEnvironment["Sink__Store"]);

        // Health: each service's /health, which the dashboard shows and WaitFor would use.
        foreach (var service in new[] { ingestor, processor, sink })
        {
            var check = Assert.Single(service.Annotations.OfType<HealthCheckAnnotation>());
            Assert.Contains("/health", check.Key, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Processor_and_sink_run_as_many_replicas_as_configured_and_the_ingestor_as_one()
    {
        await using var defaults = await AppModel.ContainersAsync();
        Assert.Equal(2, AppModel.Replicas(defaults.Resource(ResourceNames.Processor)));
        Assert.Equal(2, AppModel.Replicas(defaults.Resource(ResourceNames.Sink)));
        Assert.Equal(1, AppModel.Replicas(defaults.Resource(ResourceNames.Ingestor)));

        await using var configured = await AppModel.ContainersAsync("--Pipeline:ProcessorReplicas=3", "--Pipeline:SinkReplicas=1");
        Assert.Equal(3, AppModel.Replicas(configured.Resource(ResourceNames.Processor)));
        Assert.Equal(1, AppModel.Replicas(configured.Resource(ResourceNames.Sink)));
    }

    [Fact]
    public async Task The_appHosts_sections_are_forwarded_each_to_its_own_service()
    {
        await using var app = await AppModel.ExistingAsync(
            "--Kafka:Settings:security.protocol=SASL_SSL", "--Ingest:Source=generator", "--Process:MaxBatchSize=250", "--Sink:MaxBatchSize=400");

        var ingestor = await app.EnvironmentAsync(app.Resource(ResourceNames.Ingestor));
        var processor = await app.EnvironmentAsync(app.Resource(ResourceNames.Processor));
        var sink = await app.EnvironmentAsync(app.Resource(ResourceNames.Sink));

        foreach (var environment in new[] { ingestor, processor, sink })
        {
            Assert.Equal("SASL_SSL", environment["Kafka__Settings__security.protocol"]);
        }

        Assert.Equal("generator", ingestor["Ingest__Source"]);
        Assert.Equal("250", processor["Process__MaxBatchSize"]);
        Assert.Equal("400", sink["Sink__MaxBatchSize"]);
        Assert.DoesNotContain("Ingest__Source", processor.Keys);
        Assert.DoesNotContain("Process__MaxBatchSize", sink.Keys);
        Assert.DoesNotContain("Sink__MaxBatchSize", ingestor.Keys);
    }

    [Fact]
    public async Task Kafka_gets_the_pipelines_topics_with_the_configured_partitions()
    {
        await using var app = await AppModel.ContainersAsync("--Pipeline:TopicPartitions=4", "--Pipeline:DeadLetterPartitions=2");

        var kafka = app.Resource(ResourceNames.Kafka);
        var topics = Assert.Single(kafka.Annotations.OfType<KafkaTopicsAnnotation>()).Topics.ToDictionary(t => t.Name, t => t.NumPartitions);
        Assert.Equal(
            new Dictionary<string, int> { [Topics.UsersCreated] = 4, [Topics.UsersEnriched] = 4, [Topics.DeadLetter] = 2, [Topics.DeadLetterReplays] = 1 },
            topics);
        var replays = kafka.Annotations.OfType<KafkaTopicsAnnotation>().Single().Topics.Single(t => t.Name == Topics.DeadLetterReplays);
        Assert.Equal("compact", replays.Configs["cleanup.policy"]);

        // Where the AppHost does not create them (a deployed broker), the broker creates them with as many partitions.
        var environment = await app.EnvironmentAsync(kafka);
        Assert.Equal("true", environment["KAFKA_AUTO_CREATE_TOPICS_ENABLE"]);
        Assert.Equal("4", environment["KAFKA_NUM_PARTITIONS"]);
    }

    [Fact]
    public async Task Cassandra_is_one_node_with_a_cql_endpoint_a_bounded_heap_a_data_volume_and_a_cql_health_check()
    {
        await using var app = await AppModel.ContainersAsync("--Pipeline:CassandraMaxHeapSize=1G", "--Pipeline:CassandraHeapNewSize=256M");

        var cassandra = app.Resource<CassandraResource>(ResourceNames.Cassandra);
        var image = Assert.Single(cassandra.Annotations.OfType<ContainerImageAnnotation>());
        Assert.Equal(("docker.io", "library/cassandra", "5.0"), (image.Registry, image.Image, image.Tag));
        var cql = Assert.Single(cassandra.Annotations.OfType<EndpointAnnotation>());
        Assert.Equal(("cql", 9042), (cql.Name, cql.TargetPort));
        var environment = await app.EnvironmentAsync(cassandra);
        Assert.Equal(("1G", "256M"), (environment["MAX_HEAP_SIZE"], environment["HEAP_NEWSIZE"]));
        var volume = Assert.Single(cassandra.Annotations.OfType<ContainerMountAnnotation>());
        Assert.Equal((ContainerMountType.Volume, "/var/lib/cassandra"), (volume.Type, volume.Target));
        Assert.Equal(
            "Contact Points={cassandra.bindings.cql.host};Port={cassandra.bindings.cql.port}",
            cassandra.ConnectionStringExpression.ValueExpression);
        Assert.Equal($"{ResourceNames.Cassandra}_cql", Assert.Single(cassandra.Annotations.OfType<HealthCheckAnnotation>()).Key);
    }

    [Fact]
    public async Task Without_data_volumes_no_container_keeps_data()
    {
        await using var app = await AppModel.ContainersAsync("--Pipeline:UseDataVolumes=false");

        Assert.All(app.Model.Resources.OfType<ContainerResource>(), c => Assert.Empty(c.Annotations.OfType<ContainerMountAnnotation>()));
    }

    [Fact]
    public async Task Postgres_holds_the_pipeline_database_behind_a_generated_secret_password()
    {
        await using var app = await AppModel.ContainersAsync();

        var database = app.Resource<PostgresDatabaseResource>(ResourceNames.PipelineDatabase);
        Assert.Equal("pipeline", database.DatabaseName);
        Assert.Equal("postgres", database.Parent.Name);
        var password = Assert.IsType<ParameterResource>(database.Parent.PasswordParameter);
        Assert.Equal("postgres-password", password.Name);
        Assert.True(password.Secret);
    }

    [Fact]
    public async Task Randomuser_is_an_external_service_at_the_configured_url()
    {
        await using var app = await AppModel.ContainersAsync("--Pipeline:RandomUserUrl=https://randomuser.example/");

        var randomUser = app.Resource<ExternalServiceResource>(ResourceNames.RandomUser);
        Assert.Equal(new Uri("https://randomuser.example/"), randomUser.Uri);
        var ingestor = await app.EnvironmentAsync(app.Resource(ResourceNames.Ingestor));
        Assert.Equal("https://randomuser.example/", ingestor["services__randomuser__https__0"]);
    }

    [Fact]
    public async Task The_ingestor_offers_start_pause_and_resume_commands_and_the_services_link_their_apis()
    {
        await using var app = await AppModel.ExistingAsync();

        var commands = app.Resource(ResourceNames.Ingestor).Annotations.OfType<ResourceCommandAnnotation>().ToDictionary(c => c.Name);
        Assert.Contains(PipelineDashboardExtensions.Commands.StartRun, commands.Keys);
        Assert.Contains(PipelineDashboardExtensions.Commands.PauseSchedule, commands.Keys);
        Assert.Contains(PipelineDashboardExtensions.Commands.ResumeSchedule, commands.Keys);
        var size = Assert.Single(commands[PipelineDashboardExtensions.Commands.StartRun].Arguments ?? []);
        Assert.Equal((PipelineDashboardExtensions.Arguments.RunSize, InputType.Number, false), (size.Name, size.InputType, size.Required));

        Assert.NotEmpty(app.Resource(ResourceNames.Ingestor).Annotations.OfType<ResourceUrlsCallbackAnnotation>());
        Assert.NotEmpty(app.Resource(ResourceNames.Sink).Annotations.OfType<ResourceUrlsCallbackAnnotation>());
    }

    [Fact]
    public async Task The_processor_offers_a_replay_of_the_dead_letters_of_a_code_with_the_api_key_and_links_them()
    {
        await using var app = await AppModel.ExistingAsync();

        var processor = app.Resource(ResourceNames.Processor);
        var commands = processor.Annotations.OfType<ResourceCommandAnnotation>().ToDictionary(c => c.Name);
        var replay = commands[PipelineDashboardExtensions.Commands.ReplayDeadLetters];
        var code = Assert.Single(replay.Arguments ?? []);
        Assert.Equal((PipelineDashboardExtensions.Arguments.ReplayCode, InputType.Text, true), (code.Name, code.InputType, code.Required));
        Assert.NotEmpty(processor.Annotations.OfType<ResourceUrlsCallbackAnnotation>());
    }

    [Fact]
    public async Task A_generated_secret_api_key_reaches_the_ingestor_and_the_processor_and_not_the_sink()
    {
        await using var app = await AppModel.ExistingAsync();

        var apiKey = app.Resource<ParameterResource>(ResourceNames.ApiKey);
        Assert.True(apiKey.Secret);
        Assert.NotNull(apiKey.Default); // generated (GenerateParameterDefault), kept in the AppHost's user secrets
        Assert.Equal("{api-key.value}", (await app.EnvironmentAsync(app.Resource(ResourceNames.Ingestor)))["Api__Key"]);
        Assert.Equal("{api-key.value}", (await app.EnvironmentAsync(app.Resource(ResourceNames.Processor)))["Api__Key"]);
        Assert.DoesNotContain("Api__Key", (await app.EnvironmentAsync(app.Resource(ResourceNames.Sink))).Keys);
    }

    [Theory]
    [InlineData("--Pipeline:SinkStore=mysql", "Pipeline:SinkStore")]
    [InlineData("--Pipeline:ProcessorReplicas=0", "ProcessorReplicas")]
    [InlineData("--Pipeline:CassandraMaxHeapSize=lots", "Pipeline:CassandraMaxHeapSize")]
    public async Task A_bad_setting_stops_the_appHost_with_a_message_naming_the_key(string argument, string key)
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => AppModel.ContainersAsync(argument));

        Assert.Contains(key, error.ToString(), StringComparison.Ordinal);
    }
}
