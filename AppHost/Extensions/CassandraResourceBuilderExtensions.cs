namespace Aspire.Hosting;

/// <summary>Adds a Cassandra container to the application model, with a health check that really queries CQL.</summary>
public static class CassandraResourceBuilderExtensions
{
    private const string DataPath = "/var/lib/cassandra";

    /// <summary>
    /// Adds a single Cassandra node (<c>cassandra:5.0</c>) exposing CQL on <paramref name="port"/> (random
    /// when null). The resource is healthy only when <c>SELECT release_version FROM system.local</c> answers,
    /// so <c>WaitFor</c> holds a dependent service until Cassandra can really serve it.
    /// </summary>
    public static IResourceBuilder<CassandraResource> AddCassandra(this IDistributedApplicationBuilder builder, string name, int? port = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);

        var cassandra = new CassandraResource(name);
        var healthCheckKey = $"{name}_cql";

        // One check instance per resource, owned (and disposed) by the AppHost's container; it keeps its
        // driver session between runs of the check.
        builder.Services.AddKeyedSingleton(healthCheckKey, (_, _) => new CassandraCqlHealthCheck(cassandra));
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
            healthCheckKey,
            services => services.GetRequiredKeyedService<CassandraCqlHealthCheck>(healthCheckKey),
            failureStatus: default,
            tags: default));

        return builder.AddResource(cassandra)
            .WithImage(CassandraContainerImageTags.Image, CassandraContainerImageTags.Tag)
            .WithImageRegistry(CassandraContainerImageTags.Registry)
            .WithEndpoint(port: port, targetPort: CassandraResource.CqlPort, scheme: "tcp", name: CassandraResource.PrimaryEndpointName)
            // One node: no need to wait for gossip to settle at startup.
            .WithEnvironment("JVM_EXTRA_OPTS", "-Dcassandra.skip_wait_for_gossip_to_settle=0")
            .WithHealthCheck(healthCheckKey);
    }

    /// <summary>Sets the JVM heap (<c>MAX_HEAP_SIZE</c>) and young generation (<c>HEAP_NEWSIZE</c>); Cassandra needs both or neither.</summary>
    public static IResourceBuilder<CassandraResource> WithHeapSize(this IResourceBuilder<CassandraResource> builder, string maxHeapSize, string heapNewSize)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(maxHeapSize);
        ArgumentException.ThrowIfNullOrEmpty(heapNewSize);

        return builder
            .WithEnvironment("MAX_HEAP_SIZE", maxHeapSize)
            .WithEnvironment("HEAP_NEWSIZE", heapNewSize);
    }

    /// <summary>Keeps Cassandra's data (<c>/var/lib/cassandra</c>) in a named volume.</summary>
    public static IResourceBuilder<CassandraResource> WithDataVolume(this IResourceBuilder<CassandraResource> builder, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(builder);

        return builder.WithVolume(name ?? VolumeNameGenerator.Generate(builder, "data"), DataPath);
    }
}
