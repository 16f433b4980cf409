namespace Microsoft.Extensions.Hosting;

/// <summary>The Aspire Kafka client integration, used for what it adds to a pipeline service: a broker health check.</summary>
public static class PipelineKafkaExtensions
{
    /// <summary>
    /// Adds Aspire.Confluent.Kafka's producer health check for the <c>kafka</c> connection to
    /// <c>/health</c>, so the dashboard and container platforms see a service that cannot reach Kafka as
    /// unhealthy. The check's client is configured like the stages' clients: bootstrap servers resolved by
    /// <see cref="KafkaOptions.ResolveBootstrapServers"/>, plus every <c>Kafka:Settings</c> entry.
    /// <para>
    /// Tracing is off: the pipeline's libraries inject and extract the W3C trace context in Kafka headers
    /// themselves (<c>KafkaTracing</c>), so the context is written once. Metrics are off: the integration
    /// reports librdkafka statistics only for clients it builds, and the stages build their own clients
    /// (<c>KafkaClientFactory</c>) so a fenced or failed one can be replaced. The producer it registers
    /// (keyed <c>kafka</c>) is never resolved by the pipeline; the health check makes its own.
    /// </para>
    /// </summary>
    public static TBuilder AddKafkaHealthCheck<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);

        var kafka = builder.Configuration.GetSection(KafkaOptions.SectionName);
        builder.AddKeyedKafkaProducer<string, byte[]>(ResourceNames.Kafka, settings =>
        {
            settings.DisableTracing = true;
            settings.DisableMetrics = true;

            if (KafkaOptions.ResolveBootstrapServers(builder.Configuration) is { Length: > 0 } bootstrapServers)
            {
                settings.ConnectionString = bootstrapServers;
            }

            foreach (var setting in kafka.GetSection(nameof(KafkaOptions.Settings)).GetChildren())
            {
                if (setting.Value is not null)
                {
                    settings.Config.Set(setting.Key, setting.Value);
                }
            }
        });

        return builder;
    }
}
