using System.Text.RegularExpressions;

namespace UserStream.Sink.Cassandra;

/// <summary>
/// The CQL of the Cassandra store, built from <see cref="CassandraStoreOptions"/>:
/// <list type="bullet">
/// <item><c>created_users</c> — one row per user id, the original Spark job's table plus the enrichment.
/// Written with <c>USING TIMESTAMP</c> = ingestion time in microseconds, so redelivery is a no-op and the
/// newest ingestion wins.</item>
/// <item><c>created_users_by_day</c> — the "most recent" index: partition = UTC ingestion day, clustered
/// newest first. It holds (ingested_at, id) only; a reader keeps an entry only while it matches the user's
/// current <c>ingested_at</c> in <c>created_users</c>, so an index entry of a superseded version is ignored.</item>
/// </list>
/// Identifiers are validated (never quoted user input); values are always bound (<c>?</c>).
/// </summary>
public sealed partial class CassandraSchema
{
    public const string UsersTable = UserStream.Contracts.TableNames.CreatedUsers;
    public const string UsersByDayTable = "created_users_by_day";

    public CassandraSchema(CassandraStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!Identifier().IsMatch(options.Keyspace))
        {
            throw new ArgumentException($"Keyspace '{options.Keyspace}' is not a plain CQL identifier.", nameof(options));
        }

        Keyspace = options.Keyspace;
        CreateKeyspace = $"CREATE KEYSPACE IF NOT EXISTS {Keyspace} WITH replication = {Replication(options)} AND durable_writes = true";

        var users = $"{Keyspace}.{UsersTable}";
        var byDay = $"{Keyspace}.{UsersByDayTable}";
        var columns = CassandraUserRow.Columns;
        var columnList = string.Join(", ", columns.Select(c => c.Name));

        CreateUsersTable =
            $"CREATE TABLE IF NOT EXISTS {users} ({string.Join(", ", columns.Select(c => $"{c.Name} {c.CqlType}"))}, " +
            $"PRIMARY KEY ({CassandraUserRow.Id}))";
        CreateUsersByDayTable =
            $"CREATE TABLE IF NOT EXISTS {byDay} (day text, {CassandraUserRow.IngestedAt} timestamp, {CassandraUserRow.Id} uuid, " +
            $"PRIMARY KEY ((day), {CassandraUserRow.IngestedAt}, {CassandraUserRow.Id})) " +
            $"WITH CLUSTERING ORDER BY ({CassandraUserRow.IngestedAt} DESC, {CassandraUserRow.Id} ASC)";

        InsertUser =
            $"INSERT INTO {users} ({columnList}) VALUES ({string.Join(", ", columns.Select(_ => "?"))}) USING TIMESTAMP ?";
        InsertUserByDay =
            $"INSERT INTO {byDay} (day, {CassandraUserRow.IngestedAt}, {CassandraUserRow.Id}) VALUES (?, ?, ?) USING TIMESTAMP ?";
        SelectUser = $"SELECT {columnList} FROM {users} WHERE {CassandraUserRow.Id} = ?";
        SelectDayIndex = $"SELECT {CassandraUserRow.IngestedAt}, {CassandraUserRow.Id} FROM {byDay} WHERE day = ?";
        CountUsers = $"SELECT COUNT(*) FROM {users}";
        Probes =
        [
            $"SELECT {CassandraUserRow.Id} FROM {users} LIMIT 1",
            $"SELECT day FROM {byDay} LIMIT 1",
        ];
    }

    public string Keyspace { get; }

    public string CreateKeyspace { get; }

    public string CreateUsersTable { get; }

    public string CreateUsersByDayTable { get; }

    /// <summary>Binds <see cref="CassandraUserRow.ToValues"/> then the write timestamp (<see cref="CassandraTime.WriteTimestamp"/>).</summary>
    public string InsertUser { get; }

    /// <summary>Binds day bucket, ingested_at, id, then the write timestamp.</summary>
    public string InsertUserByDay { get; }

    /// <summary>Binds id.</summary>
    public string SelectUser { get; }

    /// <summary>Binds a day bucket; rows come newest first (page through them).</summary>
    public string SelectDayIndex { get; }

    /// <summary>
    /// Counts by scanning every partition of <c>created_users</c>: its cost grows with the table
    /// (seconds at millions of rows). It counts each user once, unlike a counter column, which a
    /// redelivered record would increment again.
    /// </summary>
    public string CountUsers { get; }

    /// <summary>
    /// The store's probe (<c>IUserStore.ProbeAsync</c>): one single-row read of each table, so a node that
    /// answers but lost a table or the privilege to read it fails the probe too.
    /// </summary>
    public IReadOnlyList<string> Probes { get; }

    /// <summary>The DDL, in the order it must run.</summary>
    public IReadOnlyList<string> Ddl => [CreateKeyspace, CreateUsersTable, CreateUsersByDayTable];

    private static string Replication(CassandraStoreOptions options)
    {
        var factor = options.ReplicationFactor.ToString(CultureInfo.InvariantCulture);
        return options.ReplicationClass switch
        {
            CassandraStoreOptions.SimpleStrategy => $"{{'class': 'SimpleStrategy', 'replication_factor': {factor}}}",
            CassandraStoreOptions.NetworkTopologyStrategy when !string.IsNullOrWhiteSpace(options.LocalDatacenter) && Datacenter().IsMatch(options.LocalDatacenter) =>
                $"{{'class': 'NetworkTopologyStrategy', '{options.LocalDatacenter}': {factor}}}",
            CassandraStoreOptions.NetworkTopologyStrategy =>
                throw new ArgumentException("NetworkTopologyStrategy needs a valid LocalDatacenter.", nameof(options)),
            _ => throw new ArgumentException($"Unknown replication class '{options.ReplicationClass}'.", nameof(options)),
        };
    }

    [GeneratedRegex(CassandraStoreOptions.IdentifierPattern)]
    private static partial Regex Identifier();

    [GeneratedRegex(CassandraStoreOptions.DatacenterPattern)]
    private static partial Regex Datacenter();
}
