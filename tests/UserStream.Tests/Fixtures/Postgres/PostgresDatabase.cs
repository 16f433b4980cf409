namespace UserStream.Tests.Fixtures;

/// <summary>Class fixture: a fresh PostgreSQL database for one test class, dropped afterwards (its own tests beside it).</summary>
public sealed class PostgresDatabase : PostgresTestDatabase, IAsyncLifetime;
