namespace UserStream.Sink.Store.Postgres;

/// <summary>
/// <see cref="IUserStore"/> on PostgreSQL: table <c>created_users</c> in the pipeline database. A batch is
/// upserted in one round trip (column arrays unnested into rows, see <see cref="CreatedUsersTable.UpsertSql"/>).
/// </summary>
public sealed class PostgresUserStore(NpgsqlDataSource dataSource) : IUserStore
{
    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var lockCommand = new NpgsqlCommand("SELECT pg_advisory_xact_lock($1)", connection, transaction))
        {
            lockCommand.Parameters.Add(new NpgsqlParameter<long> { TypedValue = CreatedUsersTable.SchemaLockKey });
            await lockCommand.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var create = new NpgsqlCommand(CreatedUsersTable.CreateSql, connection, transaction))
        {
            await create.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    public async Task WriteAsync(IReadOnlyList<EnrichedUser> users, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(users);
        if (users.Count == 0)
        {
            return;
        }

        // ON CONFLICT cannot touch one row twice in a statement: one version per id.
        var rows = LatestVersions.Of(users);
        await using var command = dataSource.CreateCommand(CreatedUsersTable.UpsertSql);
        CreatedUsersTable.AddUpsertParameters(command.Parameters, rows);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public bool IsTransient(Exception exception) => PostgresErrors.IsTransient(exception);

    public async Task ProbeAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(CreatedUsersTable.ProbeSql);
        if (await command.ExecuteScalarAsync(cancellationToken) is not true)
        {
            throw new InvalidOperationException(
                $"PostgreSQL answers but cannot take writes to {CreatedUsersTable.Name} (no INSERT/UPDATE privilege, or a read-only standby).");
        }
    }

    public async Task<EnrichedUser?> GetAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(CreatedUsersTable.GetSql);
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? CreatedUsersTable.Read(reader) : null;
    }

    public async Task<IReadOnlyList<EnrichedUser>> ListRecentAsync(int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        await using var command = dataSource.CreateCommand(CreatedUsersTable.ListRecentSql);
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var users = new List<EnrichedUser>(Math.Min(limit, 1_000));
        while (await reader.ReadAsync(cancellationToken))
        {
            users.Add(CreatedUsersTable.Read(reader));
        }

        return users;
    }

    public async Task<long> CountAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(CreatedUsersTable.CountSql);
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }
}
