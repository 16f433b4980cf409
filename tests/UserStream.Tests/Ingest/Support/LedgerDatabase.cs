namespace UserStream.Tests.Ingest.Support;

/// <summary>Gives each test its own PostgreSQL schema inside the class's database, so that ledgers never mix.</summary>
public static class LedgerDatabase
{
    /// <summary>Creates a fresh schema and returns a connection string whose search path is that schema.</summary>
    public static async Task<string> NewSchemaAsync(this PostgresTestDatabase database)
    {
        var schema = "ingest_" + Guid.NewGuid().ToString("N")[..12];
        await using (var source = NpgsqlDataSource.Create(database.ConnectionString))
        await using (var create = source.CreateCommand($"CREATE SCHEMA \"{schema}\""))
        {
            await create.ExecuteNonQueryAsync();
        }

        return new NpgsqlConnectionStringBuilder(database.ConnectionString) { SearchPath = schema }.ConnectionString;
    }
}
