namespace UserStream.Tests.Fixtures;

/// <summary>Class fixture: a mock Kafka cluster of 3 brokers for one test class (its own tests beside it).</summary>
public sealed class KafkaBroker : MockKafkaCluster, IAsyncLifetime;
