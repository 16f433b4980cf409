using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace Aspire.Hosting;

/// <summary>
/// Kafka topics for a Kafka container resource. Aspire's Kafka hosting has no topic API, so the topics are
/// created with Confluent's AdminClient once the broker is healthy, in the resource's ready event: resources
/// that <c>WaitFor</c> Kafka start only after it has run, so they never meet a missing topic.
/// </summary>
public static partial class KafkaTopicResourceBuilderExtensions
{
    private static readonly TimeSpan MetadataTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Creates <paramref name="topics"/> (recorded on the resource as a <see cref="KafkaTopicsAnnotation"/>) when the broker is ready. Topics that exist are kept as they are; one
    /// with fewer partitions than asked for is reported in the resource's log (partitions are only ever
    /// added by hand: adding them moves keys to other partitions).
    /// </summary>
    public static IResourceBuilder<KafkaServerResource> WithTopics(this IResourceBuilder<KafkaServerResource> builder, params TopicSpecification[] topics)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(topics);

        return builder.WithAnnotation(new KafkaTopicsAnnotation([.. topics])).OnResourceReady(async (kafka, ready, cancellationToken) =>
        {
            var logger = ready.Services.GetRequiredService<ResourceLoggerService>().GetLogger(kafka);
            var bootstrapServers = await kafka.ConnectionStringExpression.GetValueAsync(cancellationToken);

            using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrapServers }).Build();
            try
            {
                await admin.CreateTopicsAsync(topics);
            }
            catch (CreateTopicsException e) when (e.Results.All(r => r.Error.Code is ErrorCode.NoError or ErrorCode.TopicAlreadyExists))
            {
                // Topics that already existed (data volume from an earlier run) are left as they are.
            }

            var metadata = admin.GetMetadata(MetadataTimeout);
            foreach (var topic in topics)
            {
                var partitions = metadata.Topics.FirstOrDefault(t => t.Topic == topic.Name)?.Partitions.Count ?? 0;
                if (partitions < topic.NumPartitions)
                {
                    LogTooFewPartitions(logger, topic.Name, partitions, topic.NumPartitions);
                }
                else
                {
                    LogTopicReady(logger, topic.Name, partitions);
                }
            }
        });
    }

    /// <summary>
    /// Lets the broker create topics on first use with <paramref name="partitions"/> partitions
    /// (<c>KAFKA_AUTO_CREATE_TOPICS_ENABLE</c>, <c>KAFKA_NUM_PARTITIONS</c>): the fallback where the
    /// AppHost does not run the ready event, e.g. a deployed Kafka container.
    /// </summary>
    public static IResourceBuilder<KafkaServerResource> WithAutoCreatedTopicPartitions(this IResourceBuilder<KafkaServerResource> builder, int partitions)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(partitions);

        return builder
            .WithEnvironment("KAFKA_AUTO_CREATE_TOPICS_ENABLE", "true")
            .WithEnvironment("KAFKA_NUM_PARTITIONS", partitions.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Topic {Topic} ready with {Partitions} partitions")]
    private static partial void LogTopicReady(ILogger logger, string topic, int partitions);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Topic {Topic} has {Partitions} partitions, fewer than the {Wanted} configured; add partitions by hand (kafka-topics --alter) or drop the data volume")]
    private static partial void LogTooFewPartitions(ILogger logger, string topic, int partitions, int wanted);
}

/// <summary>The topics the AppHost creates on a Kafka resource once it is ready (see <see cref="KafkaTopicResourceBuilderExtensions.WithTopics"/>).</summary>
public sealed class KafkaTopicsAnnotation(IReadOnlyList<TopicSpecification> topics) : IResourceAnnotation
{
    public IReadOnlyList<TopicSpecification> Topics { get; } = topics;
}
