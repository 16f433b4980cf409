using UserStream.Testing;

namespace UserStream.Tests.Infrastructure;

/// <summary>Class fixture: a mock Kafka cluster of 3 brokers for one test class.</summary>
public sealed class KafkaBroker : MockKafkaCluster, IAsyncLifetime;

/// <summary>Class fixture: a fresh PostgreSQL database for one test class, dropped afterwards.</summary>
public sealed class PostgresDatabase : PostgresTestDatabase, IAsyncLifetime;
