namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Which instance (replica) of a service this process is, e.g. for a Kafka transactional id, which must
/// be unique among the running instances of the processor.
/// </summary>
public static class ServiceInstance
{
    /// <summary>
    /// This process's instance id: the OpenTelemetry <c>service.instance.id</c> (Aspire gives every replica
    /// its own, in <c>OTEL_RESOURCE_ATTRIBUTES</c>), else <c>HOSTNAME</c> (a container app or pod replica's
    /// name), else machine name and process id.
    /// </summary>
    public static string ResolveId(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);

        var fromOpenTelemetry = (configuration["OTEL_RESOURCE_ATTRIBUTES"] ?? "")
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(attribute => attribute.Split('=', 2, StringSplitOptions.TrimEntries))
            .Where(pair => pair.Length == 2 && pair[0] == "service.instance.id" && pair[1].Length > 0)
            .Select(pair => Uri.UnescapeDataString(pair[1]))
            .FirstOrDefault();

        return fromOpenTelemetry
            ?? (configuration["HOSTNAME"] is { Length: > 0 } hostName ? hostName : null)
            ?? $"{Environment.MachineName}-{Environment.ProcessId}";
    }

    /// <summary>Sets <paramref name="configurationKey"/> to <see cref="ResolveId"/> unless configuration already sets it.</summary>
    public static TBuilder UseInstanceIdFor<TBuilder>(this TBuilder builder, string configurationKey)
        where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(configurationKey);

        if (string.IsNullOrWhiteSpace(builder.Configuration[configurationKey]))
        {
            builder.Configuration.AddInMemoryCollection([new(configurationKey, ResolveId(builder.Configuration))]);
        }

        return builder;
    }

    /// <summary>
    /// What every pipeline stage's host adds to the service defaults: this replica's instance id under
    /// <c>{section}:InstanceId</c> (<see cref="UseInstanceIdFor"/>: its transactional id, static group membership and
    /// run ownership are made from it) and the Kafka health check (<see cref="PipelineKafkaExtensions.AddKafkaHealthCheck"/>).
    /// </summary>
    public static TBuilder AddStageDefaults<TBuilder>(this TBuilder builder, string section)
        where TBuilder : IHostApplicationBuilder
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(section);
        return builder.UseInstanceIdFor(section + ":InstanceId").AddKafkaHealthCheck();
    }
}
