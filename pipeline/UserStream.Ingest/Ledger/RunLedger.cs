namespace UserStream.Ingest.Ledger;

/// <summary>A second run was refused by the database: another one is recorded as running.</summary>
internal sealed class RunAlreadyRecordedException(Exception inner) : Exception("another run is recorded as running", inner);

/// <summary>The run ledger: table <c>ingest_runs</c> of the pipeline database, one row per run.</summary>
internal sealed class RunLedger(NpgsqlDataSource database)
{
    private const string Columns =
        "id, trigger, source, seed, requested, fetched, produced, failed, without_key, fetch_attempts, status, error, started_at, ended_at, trace_id";

    /// <summary>
    /// Records a run as running, owned by <paramref name="owner"/> with a fresh lease. Throws
    /// <see cref="RunAlreadyRecordedException"/> when another one is.
    /// </summary>
    public async Task StartAsync(RunRecord run, string owner, CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand(
            "INSERT INTO ingest_runs (id, trigger, source, seed, requested, status, started_at, trace_id, owner, heartbeat_at) " +
            "VALUES ($1, $2, $3, $4, $5, 'running', $6, $7, $8, now())");
        command.AddPositional(
            run.Id, run.Trigger.Text(), run.Source, run.Seed, run.Requested, run.StartedAt, (object?)run.TraceId ?? DBNull.Value, owner);
        try
        {
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation && e.ConstraintName == "ingest_runs_one_running_idx")
        {
            throw new RunAlreadyRecordedException(e);
        }
    }

    /// <summary>Writes a running run's counts so far.</summary>
    public async Task ProgressAsync(Guid id, RunCounts counts, CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand(
            "UPDATE ingest_runs SET fetched = $2, produced = $3, failed = $4, without_key = $5, fetch_attempts = $6 " +
            "WHERE id = $1 AND status = 'running'");
        command.AddPositional(id, counts.Fetched, counts.Produced, counts.Failed, counts.WithoutKey, counts.FetchAttempts);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Records how a run ended.</summary>
    public async Task CompleteAsync(
        Guid id, RunCounts counts, RunStatus status, string? error, DateTimeOffset endedAt, CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand(
            "UPDATE ingest_runs SET fetched = $2, produced = $3, failed = $4, without_key = $5, fetch_attempts = $6, " +
            "status = $7, error = $8, ended_at = $9 WHERE id = $1");
        command.AddPositional(id, counts.Fetched, counts.Produced, counts.Failed, counts.WithoutKey, counts.FetchAttempts,
            status.Text(), (object?)error ?? DBNull.Value, endedAt);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Renews a running run's lease. False when the run is no longer running (another instance took it over).</summary>
    public async Task<bool> RenewAsync(Guid id, string owner, CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand(
            "UPDATE ingest_runs SET heartbeat_at = now() WHERE id = $1 AND owner = $2 AND status = 'running'");
        command.AddPositional(id, owner);
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    /// <summary>
    /// Marks as failed with <paramref name="error"/> the runs recorded as running that nobody runs any more: those
    /// of <paramref name="owner"/> (this instance's previous incarnation) and those whose lease lapsed more than
    /// <paramref name="lease"/> ago by the database's clock (or that were recorded before runs had owners).
    /// A run whose owner is alive is left alone. Returns the ids marked.
    /// </summary>
    public async Task<IReadOnlyList<Guid>> MarkInterruptedAsync(
        string owner, TimeSpan lease, string error, DateTimeOffset endedAt, CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand(
            "UPDATE ingest_runs SET status = 'failed', error = $1, ended_at = $2 " +
            "WHERE status = 'running' AND (owner = $3 OR owner IS NULL OR heartbeat_at IS NULL OR heartbeat_at < now() - $4) " +
            "RETURNING id");
        command.AddPositional(error, endedAt, owner, lease);
        var ids = new List<Guid>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            ids.Add(reader.GetGuid(0));
        }

        return ids;
    }

    public async Task<RunRecord?> GetAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand($"SELECT {Columns} FROM ingest_runs WHERE id = $1");
        command.AddPositional(id);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    /// <summary>The latest <paramref name="limit"/> runs, newest first.</summary>
    public async Task<IReadOnlyList<RunRecord>> ListAsync(int limit, CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand($"SELECT {Columns} FROM ingest_runs ORDER BY started_at DESC, id DESC LIMIT $1");
        command.AddPositional(limit);
        var runs = new List<RunRecord>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            runs.Add(Read(reader));
        }

        return runs;
    }

    /// <summary>When the latest scheduled run started, if any.</summary>
    public async Task<DateTimeOffset?> LastScheduledStartAsync(CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand("SELECT max(started_at) FROM ingest_runs WHERE trigger = 'schedule'");
        var value = await command.ExecuteScalarAsync(cancellationToken);
        return value is DateTime started ? new DateTimeOffset(DateTime.SpecifyKind(started, DateTimeKind.Utc)) : null;
    }

    private static RunRecord Read(NpgsqlDataReader reader) => new(
        reader.GetGuid(0),
        RunText.ParseTrigger(reader.GetString(1)),
        reader.GetString(2),
        reader.GetString(3),
        reader.GetInt32(4),
        new RunCounts(reader.GetInt32(5), reader.GetInt32(6), reader.GetInt32(7), reader.GetInt32(8), reader.GetInt32(9)),
        RunText.ParseStatus(reader.GetString(10)),
        reader.IsDBNull(11) ? null : reader.GetString(11),
        reader.GetFieldValue<DateTimeOffset>(12),
        reader.IsDBNull(13) ? null : reader.GetFieldValue<DateTimeOffset>(13),
        reader.IsDBNull(14) ? null : reader.GetString(14));
}
