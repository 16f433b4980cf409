namespace UserStream.Ingest.Ledger;

/// <summary>
/// The schedule's settings in table <c>ingest_schedule</c> (one row), so that a restart keeps them.
/// Settings changed through the API (<c>set_by = 'api'</c>) win over configuration; until then the row
/// follows the configured <c>Ingest:Schedule</c> values.
/// </summary>
internal sealed class ScheduleStore(NpgsqlDataSource database)
{
    private const string Columns = "run_interval, size, paused, set_by, updated_at";

    /// <summary>Creates the row from configuration, or refreshes it from configuration unless the API set it; returns the stored settings.</summary>
    public async Task<ScheduleSettings> EnsureAsync(ScheduleOptions configured, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand(
            """
            INSERT INTO ingest_schedule (id, run_interval, size, paused, set_by, updated_at)
            VALUES (1, $1, $2, $3, 'configuration', $4)
            ON CONFLICT (id) DO UPDATE SET run_interval = EXCLUDED.run_interval, size = EXCLUDED.size,
                paused = EXCLUDED.paused, updated_at = EXCLUDED.updated_at
            WHERE ingest_schedule.set_by = 'configuration'
              AND (ingest_schedule.run_interval, ingest_schedule.size, ingest_schedule.paused)
                  IS DISTINCT FROM (EXCLUDED.run_interval, EXCLUDED.size, EXCLUDED.paused)
            """);
        command.AddPositional(configured.Interval, configured.Size, configured.Paused, now);
        await command.ExecuteNonQueryAsync(cancellationToken);
        return await GetAsync(cancellationToken);
    }

    public async Task<ScheduleSettings> GetAsync(CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand($"SELECT {Columns} FROM ingest_schedule WHERE id = 1");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await ReadAsync(reader, cancellationToken);
    }

    /// <summary>Stores settings changed through the API.</summary>
    public async Task<ScheduleSettings> SaveAsync(TimeSpan interval, int size, bool paused, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand(
            $"UPDATE ingest_schedule SET run_interval = $1, size = $2, paused = $3, set_by = 'api', updated_at = $4 WHERE id = 1 RETURNING {Columns}");
        command.AddPositional(interval, size, paused, now);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await ReadAsync(reader, cancellationToken);
    }

    private static async Task<ScheduleSettings> ReadAsync(NpgsqlDataReader reader, CancellationToken cancellationToken)
    {
        if (!await reader.ReadAsync(cancellationToken))
        {
            throw new InvalidOperationException("ingest_schedule has no row; EnsureAsync was not called");
        }

        return new ScheduleSettings(
            reader.GetFieldValue<TimeSpan>(0), reader.GetInt32(1), reader.GetBoolean(2), reader.GetString(3), reader.GetFieldValue<DateTimeOffset>(4));
    }
}
