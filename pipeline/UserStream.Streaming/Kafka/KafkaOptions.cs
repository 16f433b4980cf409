using System.ComponentModel.DataAnnotations;

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
}
