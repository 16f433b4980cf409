namespace UserStream.Ingest.Ledger;

/// <summary>
/// Creates (or brings up to date) the ingest tables in the pipeline database. Every statement is
/// idempotent, and concurrent startups are serialized by a transaction-scoped advisory lock.
/// </summary>
internal sealed class LedgerSchema(NpgsqlDataSource database)
{
    /// <summary>Advisory lock key of the ingest schema ("UsLedger" in ASCII).</summary>
    internal const long LockKey = 0x5573_4C65_6467_6572;

    internal const string Sql = """
        CREATE TABLE IF NOT EXISTS ingest_runs (
            id             uuid        PRIMARY KEY,
            trigger        text        NOT NULL CHECK (trigger IN ('schedule', 'manual')),
            source         text        NOT NULL,
            seed           text        NOT NULL,
            requested      integer     NOT NULL CHECK (requested > 0),
            fetched        integer     NOT NULL DEFAULT 0,
            produced       integer     NOT NULL DEFAULT 0,
            failed         integer     NOT NULL DEFAULT 0,
            without_key    integer     NOT NULL DEFAULT 0,
            fetch_attempts integer     NOT NULL DEFAULT 0,
            status         text        NOT NULL CHECK (status IN ('running', 'succeeded', 'partial', 'failed')),
            error          text,
            trace_id       text,
            started_at     timestamptz NOT NULL,
            ended_at       timestamptz
        );
        -- Ownership: the instance running a run, and when it last renewed its lease (database time).
        ALTER TABLE ingest_runs ADD COLUMN IF NOT EXISTS owner text;
        ALTER TABLE ingest_runs ADD COLUMN IF NOT EXISTS heartbeat_at timestamptz;
        CREATE INDEX IF NOT EXISTS ingest_runs_started_at_idx ON ingest_runs (started_at DESC);
        CREATE INDEX IF NOT EXISTS ingest_runs_trigger_started_at_idx ON ingest_runs (trigger, started_at DESC);
        -- At most one run is running: the database refuses a second even if two instances race.
        CREATE UNIQUE INDEX IF NOT EXISTS ingest_runs_one_running_idx ON ingest_runs ((true)) WHERE status = 'running';

        CREATE TABLE IF NOT EXISTS ingest_schedule (
            id           smallint    PRIMARY KEY CHECK (id = 1),
            run_interval interval    NOT NULL,
            size         integer     NOT NULL CHECK (size > 0),
            paused       boolean     NOT NULL,
            set_by       text        NOT NULL CHECK (set_by IN ('configuration', 'api')),
            updated_at   timestamptz NOT NULL
        );
        """;

    public async Task EnsureAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var lockCommand = new NpgsqlCommand("SELECT pg_advisory_xact_lock($1)", connection, transaction))
        {
            lockCommand.Parameters.Add(new NpgsqlParameter { Value = LockKey });
            await lockCommand.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var create = new NpgsqlCommand(Sql, connection, transaction))
        {
            await create.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }
}
