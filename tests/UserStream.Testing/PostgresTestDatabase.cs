using Npgsql;

namespace UserStream.Testing;

/// <summary>
/// A fresh database on the test PostgreSQL server for one test class, dropped afterwards; it can be
/// made to refuse connections for a while (an outage that the stages must ride through).
/// Tests use it as the class fixture <c>PostgresDatabase</c>; benchmarks create it directly.
/// </summary>
public class PostgresTestDatabase : IAsyncDisposable
{
    private NpgsqlDataSource? _admin;

    public string Name { get; } = "userstream_test_" + Guid.NewGuid().ToString("N")[..16];

    /// <summary>Connection string of the test database (no pooling of broken connections after an outage).</summary>
    public string ConnectionString { get; private set; } = "";

    public async ValueTask InitializeAsync()
    {
        var admin = new NpgsqlConnectionStringBuilder(TestEnvironment.PostgresAdminConnectionString) { Pooling = false, Timeout = 5 };
        _admin = NpgsqlDataSource.Create(admin);
        try
        {
            await using var create = _admin.CreateCommand($"CREATE DATABASE \"{Name}\"");
            await create.ExecuteNonQueryAsync();
        }
        catch (Exception e) when (e is NpgsqlException or System.Net.Sockets.SocketException)
        {
            throw new InvalidOperationException(
                $"PostgreSQL is not reachable at '{admin.Host}:{admin.Port}' as '{admin.Username}'. " +
                "Run the README's test command (eng/test.sh), which installs and starts it and sets USERSTREAM_TEST_POSTGRES.", e);
        }

        ConnectionString = new NpgsqlConnectionStringBuilder(TestEnvironment.PostgresAdminConnectionString)
        {
            Database = Name,
            Timeout = 5,
            CommandTimeout = 30,
        }.ConnectionString;
    }

    /// <summary>Creates a database outside a test framework (benchmarks).</summary>
    public static async Task<PostgresTestDatabase> CreateAsync()
    {
        var database = new PostgresTestDatabase();
        await database.InitializeAsync();
        return database;
    }

    /// <summary>A data source for the test's own queries.</summary>
    public NpgsqlDataSource CreateDataSource() => NpgsqlDataSource.Create(ConnectionString);

    /// <summary>From now on the database refuses new connections, and open ones are terminated.</summary>
    public async Task RefuseConnectionsAsync()
    {
        await AdminAsync($"ALTER DATABASE \"{Name}\" WITH ALLOW_CONNECTIONS false");
        await AdminAsync($"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{Name}' AND pid <> pg_backend_pid()");
    }

    /// <summary>Ends an outage started by <see cref="RefuseConnectionsAsync"/>.</summary>
    public Task AcceptConnectionsAsync() => AdminAsync($"ALTER DATABASE \"{Name}\" WITH ALLOW_CONNECTIONS true");

    public async ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        if (_admin is null)
        {
            return;
        }

        try
        {
            await AdminAsync($"DROP DATABASE IF EXISTS \"{Name}\" WITH (FORCE)");
        }
        finally
        {
            await _admin.DisposeAsync();
        }
    }

    private async Task AdminAsync(string sql)
    {
        // The name is generated above, never user input; DDL takes no parameters.
        await using var command = _admin!.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }
}
