using System.ComponentModel.DataAnnotations;

namespace UserStream.AppHost;

/// <summary>The AppHost's own knobs, configuration section <c>Pipeline</c> (appsettings, user secrets, command line).</summary>
internal sealed class PipelineSettings : IValidatableObject
{
    public const string SectionName = "Pipeline";

    public const string Cassandra = "cassandra";
    public const string Postgres = "postgres";

    /// <summary>
    /// Use Kafka, PostgreSQL and Cassandra that exist elsewhere (their connection strings
    /// <c>ConnectionStrings:kafka</c>, <c>:pipeline-db</c>, <c>:cassandra</c>) instead of starting containers.
    /// </summary>
    public bool UseExistingInfrastructure { get; set; }

    /// <summary>Keep Kafka's, PostgreSQL's and Cassandra's data in named volumes across runs.</summary>
    public bool UseDataVolumes { get; set; } = true;

    /// <summary>Replicas of the processor (each one a consumer of users_created and a transactional producer).</summary>
    [Range(1, 64)]
    public int ProcessorReplicas { get; set; } = 2;

    /// <summary>Replicas of the sink (each one a consumer of users_enriched).</summary>
    [Range(1, 64)]
    public int SinkReplicas { get; set; } = 2;

    /// <summary>Partitions of users_created and users_enriched, the most replicas that can share the work.</summary>
    [Range(1, 1000)]
    public int TopicPartitions { get; set; } = 6;

    /// <summary>Partitions of users_dlq.</summary>
    [Range(1, 1000)]
    public int DeadLetterPartitions { get; set; } = 1;

    /// <summary>Where the sink writes: <c>cassandra</c> or <c>postgres</c> (the pipeline database).</summary>
    [Required]
    [AllowedValues(Cassandra, Postgres, ErrorMessage = "Pipeline:SinkStore must be 'cassandra' or 'postgres'.")]
    public string SinkStore { get; set; } = Cassandra;

    /// <summary>The randomuser.me API the ingestor calls.</summary>
    [Required]
    [Url]
    public string RandomUserUrl { get; set; } = "https://randomuser.me/";

    /// <summary>Cassandra's JVM heap (container <c>MAX_HEAP_SIZE</c>); small enough for a laptop.</summary>
    [Required]
    [RegularExpression("^[0-9]+[MG]$", ErrorMessage = "Pipeline:CassandraMaxHeapSize must look like 512M or 1G.")]
    public string CassandraMaxHeapSize { get; set; } = "512M";

    /// <summary>Cassandra's young generation (container <c>HEAP_NEWSIZE</c>).</summary>
    [Required]
    [RegularExpression("^[0-9]+[MG]$", ErrorMessage = "Pipeline:CassandraHeapNewSize must look like 128M.")]
    public string CassandraHeapNewSize { get; set; } = "128M";

    public bool UsesCassandra => SinkStore == Cassandra;

    /// <summary>Reads and validates section <see cref="SectionName"/>; a bad value stops the AppHost with its reason.</summary>
    public static PipelineSettings From(IConfiguration configuration)
    {
        var settings = configuration.GetSection(SectionName).Get<PipelineSettings>() ?? new PipelineSettings();
        Validator.ValidateObject(settings, new ValidationContext(settings), validateAllProperties: true);
        return settings;
    }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (UseExistingInfrastructure)
        {
            yield break;
        }

        if (ProcessorReplicas > TopicPartitions)
        {
            yield return new ValidationResult(
                $"Pipeline:ProcessorReplicas ({ProcessorReplicas}) exceeds Pipeline:TopicPartitions ({TopicPartitions}); the extra processors would sit idle.",
                [nameof(ProcessorReplicas)]);
        }

        if (SinkReplicas > TopicPartitions)
        {
            yield return new ValidationResult(
                $"Pipeline:SinkReplicas ({SinkReplicas}) exceeds Pipeline:TopicPartitions ({TopicPartitions}); the extra sinks would sit idle.",
                [nameof(SinkReplicas)]);
        }
    }
}
