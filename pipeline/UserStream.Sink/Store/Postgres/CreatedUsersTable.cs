namespace UserStream.Sink.Store.Postgres;

/// <summary>
/// The PostgreSQL table <c>created_users</c>, from the column map (<see cref="CreatedUsersColumns"/>): its DDL, its
/// upsert, its parameters and its row reader.
/// </summary>
internal static class CreatedUsersTable
{
    public const string Name = TableNames.CreatedUsers;

    /// <summary>Serialises schema creation across processes (an arbitrary, fixed key).</summary>
    public const long SchemaLockKey = 0x5553_4552_5354_524D; // "USERSTRM"

    private static readonly IReadOnlyList<UserColumn> Columns = CreatedUsersColumns.All;

    /// <summary>
    /// Idempotent DDL; run under an advisory lock so that concurrent starters do not race. Nullable columns are also
    /// added to an existing table that lacks them, so a new optional field needs no migration of its own.
    /// </summary>
    public static readonly string CreateSql =
        $"CREATE TABLE IF NOT EXISTS {Name} (\n    " +
        string.Join(",\n    ", Columns.Select(c =>
            $"{c.Name} {SqlType(c.Type)} " + (c.Name == CreatedUsersColumns.Id ? "PRIMARY KEY" : c.Nullable ? "NULL" : "NOT NULL"))) +
        $"\n);\n" +
        // A nullable column added to the map later reaches a table created before it.
        string.Concat(Columns.Where(c => c.Nullable).Select(c => $"ALTER TABLE {Name} ADD COLUMN IF NOT EXISTS {c.Name} {SqlType(c.Type)} NULL;\n")) +
        $"CREATE INDEX IF NOT EXISTS {Name}_{CreatedUsersColumns.IngestedAt}_idx ON {Name} ({CreatedUsersColumns.IngestedAt} DESC);";

    /// <summary>
    /// Upserts a whole batch in one statement: one array parameter per column, unnested into rows. An existing
    /// row is replaced only by a version ingested no earlier than it, so redelivery is harmless and an older
    /// version never overwrites a newer one.
    /// </summary>
    public static readonly string UpsertSql =
        $"INSERT INTO {Name} ({CreatedUsersColumns.NameList})\n" +
        $"SELECT * FROM unnest({string.Join(", ", Columns.Select((c, i) => $"${i + 1}::{SqlType(c.Type)}[]"))})\n" +
        $"ON CONFLICT ({CreatedUsersColumns.Id}) DO UPDATE SET " +
        string.Join(", ", Columns.Where(c => c.Name != CreatedUsersColumns.Id).Select(c => $"{c.Name} = EXCLUDED.{c.Name}")) +
        $"\nWHERE {Name}.{CreatedUsersColumns.IngestedAt} <= EXCLUDED.{CreatedUsersColumns.IngestedAt}";

    public static readonly string GetSql = $"SELECT {CreatedUsersColumns.NameList} FROM {Name} WHERE {CreatedUsersColumns.Id} = $1";

    public static readonly string ListRecentSql =
        $"SELECT {CreatedUsersColumns.NameList} FROM {Name} ORDER BY {CreatedUsersColumns.IngestedAt} DESC, {CreatedUsersColumns.Id} LIMIT $1";

    public const string CountSql = $"SELECT count(*) FROM {Name}";

    /// <summary>
    /// The store's probe: the server answers, the table exists (else 42P01), this role may insert and update
    /// it, and the server is not a read-only standby. One round trip, nothing written.
    /// </summary>
    public const string ProbeSql =
        $"SELECT has_table_privilege('{Name}', 'INSERT') AND has_table_privilege('{Name}', 'UPDATE') AND NOT pg_is_in_recovery()";

    /// <summary>Adds one array per column of <paramref name="users"/> as the parameters of <see cref="UpsertSql"/>.</summary>
    public static void AddUpsertParameters(NpgsqlParameterCollection parameters, IReadOnlyList<EnrichedUser> users)
    {
        foreach (var column in Columns)
        {
            parameters.Add(column.Type switch
            {
                ColumnType.Uuid => Array<Guid>(users, column),
                ColumnType.Text => Array<string?>(users, column),
                ColumnType.Integer => Array<int?>(users, column),
                ColumnType.Double => Array<double?>(users, column),
                // timestamptz takes UTC: a parsed date of birth may carry another offset.
                ColumnType.Timestamp => Array<DateTime?>(users, column, value => ((DateTimeOffset)value).UtcDateTime),
                _ => throw new InvalidOperationException($"column {column.Name}: no PostgreSQL type for {column.Type}"),
            });
        }
    }

    /// <summary>Reads a row selected with <see cref="CreatedUsersColumns.NameList"/>.</summary>
    public static EnrichedUser Read(NpgsqlDataReader reader) =>
        CreatedUsersColumns.Read(name => reader.GetOrdinal(name) is var ordinal && reader.IsDBNull(ordinal) ? null : reader.GetValue(ordinal));

    private static string SqlType(ColumnType type) => type switch
    {
        ColumnType.Uuid => "uuid",
        ColumnType.Text => "text",
        ColumnType.Integer => "integer",
        ColumnType.Double => "double precision",
        ColumnType.Timestamp => "timestamptz",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };

    private static NpgsqlParameter<T[]> Array<T>(IReadOnlyList<EnrichedUser> users, UserColumn column, Func<object, object>? convert = null)
    {
        var values = new T[users.Count];
        for (var i = 0; i < values.Length; i++)
        {
            var value = column.Value(users[i]);
            values[i] = value is null ? default! : (T)(convert is null ? value : convert(value));
        }

        return new NpgsqlParameter<T[]> { TypedValue = values };
    }
}
