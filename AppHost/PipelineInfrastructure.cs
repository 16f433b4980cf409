namespace UserStream.AppHost;

/// <summary>What the services connect to: Kafka, the pipeline database and (when the sink uses it) Cassandra.</summary>
internal sealed record PipelineInfrastructure(
    IResourceBuilder<IResourceWithConnectionString> Kafka,
    IResourceBuilder<IResourceWithConnectionString> PipelineDatabase,
    IResourceBuilder<IResourceWithConnectionString>? Cassandra)
{
    /// <summary>The sink's store: Cassandra or the pipeline database.</summary>
    public IResourceBuilder<IResourceWithConnectionString> SinkStore => Cassandra ?? PipelineDatabase;

    /// <summary>
    /// Infrastructure that exists elsewhere, given as connection strings (<c>ConnectionStrings:kafka</c>,
    /// <c>ConnectionStrings:pipeline-db</c>, <c>ConnectionStrings:cassandra</c> in the AppHost's configuration
    /// or user secrets; on deployment they become secret parameters). Topics must exist there.
    /// </summary>
    public static PipelineInfrastructure Existing(IDistributedApplicationBuilder builder, PipelineSettings settings) => new(
        builder.AddConnectionString(ResourceNames.Kafka),
        builder.AddConnectionString(ResourceNames.PipelineDatabase),
        settings.UsesCassandra ? builder.AddConnectionString(ResourceNames.Cassandra) : null);

    /// <summary>
    /// Containers: Kafka (KRaft, with Kafka UI) and its topics, PostgreSQL (with pgAdmin) and the
    /// <c>pipeline</c> database, Cassandra; with named data volumes unless <c>Pipeline:UseDataVolumes</c> is false.
    /// </summary>
    public static PipelineInfrastructure Containers(IDistributedApplicationBuilder builder, PipelineSettings settings)
    {
        var kafka = builder.AddKafka(ResourceNames.Kafka)
            .WithKafkaUI()
            .WithTopics(
                Topic(Topics.UsersCreated, settings.TopicPartitions),
                Topic(Topics.UsersEnriched, settings.TopicPartitions),
                Topic(Topics.DeadLetter, settings.DeadLetterPartitions),
                CompactedTopic(Topics.DeadLetterReplays, 1))
            .WithAutoCreatedTopicPartitions(settings.TopicPartitions);

        var postgresPassword = builder.AddParameter(
            "postgres-password",
            new GenerateParameterDefault { MinLength = 24, Special = false },
            secret: true,
            persist: true);
        var postgres = builder.AddPostgres("postgres", password: postgresPassword)
            .WithPgAdmin();

        var cassandra = settings.UsesCassandra
            ? builder.AddCassandra(ResourceNames.Cassandra)
                .WithHeapSize(settings.CassandraMaxHeapSize, settings.CassandraHeapNewSize)
            : null;

        if (settings.UseDataVolumes)
        {
            kafka.WithDataVolume();
            postgres.WithDataVolume();
            cassandra?.WithDataVolume();
        }

        return new PipelineInfrastructure(kafka, postgres.AddDatabase(ResourceNames.PipelineDatabase, "pipeline"), cassandra);
    }

    private static TopicSpecification Topic(string name, int partitions) =>
        new() { Name = name, NumPartitions = partitions, ReplicationFactor = 1 };

    /// <summary>A topic that keeps the latest record of each key (the replay markers: one per dead letter replayed).</summary>
    private static TopicSpecification CompactedTopic(string name, int partitions) =>
        new() { Name = name, NumPartitions = partitions, ReplicationFactor = 1, Configs = new() { ["cleanup.policy"] = "compact" } };
}
