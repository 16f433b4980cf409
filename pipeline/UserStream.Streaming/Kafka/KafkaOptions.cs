namespace UserStream.Streaming.Kafka;

/// <summary>Where the Kafka cluster is and how to reach it. Section <c>Kafka</c>.</summary>
public sealed class KafkaOptions
{
    public const string SectionName = "Kafka";

    /// <summary>
    /// Comma-separated host:port list. When empty, the connection string <c>ConnectionStrings:kafka</c>
    /// (what Aspire injects for the <c>kafka</c> resource) is used.
    /// </summary>
    [Required(ErrorMessage = "Kafka:BootstrapServers (or ConnectionStrings:kafka) is required.")]
    public string BootstrapServers { get; set; } = "";

    /// <summary>Extra librdkafka properties for every client (e.g. security.protocol, sasl.*).</summary>
    public Dictionary<string, string> Settings { get; set; } = [];

    /// <summary>
    /// The one rule for where the cluster is: <c>Kafka:BootstrapServers</c> when set, else the connection string
    /// <c>ConnectionStrings:kafka</c>; empty when neither is. The stages' clients and the Aspire shell's Kafka
    /// client integration both resolve it here.
    /// </summary>
    public static string ResolveBootstrapServers(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return configuration[$"{SectionName}:{nameof(BootstrapServers)}"] is { Length: > 0 } configured
            ? configured
            : configuration.GetConnectionString(ResourceNames.Kafka) ?? "";
    }
}
