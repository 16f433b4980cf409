namespace UserStream.Tests.Ingest.Support;

/// <summary>A row of <c>ingest_runs</c> as stored.</summary>
public sealed record LedgerRow(
    Guid Id, string Trigger, string Status, int Requested, int Fetched, int Produced, int Failed, int WithoutKey, int FetchAttempts,
    string? Error, DateTimeOffset StartedAt, DateTimeOffset? EndedAt);

/// <summary>Reads the run ledger straight from the database (not through the stage).</summary>
public static class LedgerRows
{
    public static async Task<IReadOnlyList<LedgerRow>> ReadAsync(string connectionString)
    {
        await using var source = NpgsqlDataSource.Create(connectionString);
        await using var command = source.CreateCommand(
            "SELECT id, trigger, status, requested, fetched, produced, failed, without_key, fetch_attempts, error, started_at, ended_at " +
            "FROM ingest_runs ORDER BY started_at");
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<LedgerRow>();
        while (await reader.ReadAsync())
        {
            rows.Add(new LedgerRow(
                reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.GetInt32(3), reader.GetInt32(4), reader.GetInt32(5),
                reader.GetInt32(6), reader.GetInt32(7), reader.GetInt32(8), reader.IsDBNull(9) ? null : reader.GetString(9),
                reader.GetFieldValue<DateTimeOffset>(10), reader.IsDBNull(11) ? null : reader.GetFieldValue<DateTimeOffset>(11)));
        }

        return rows;
    }
}
