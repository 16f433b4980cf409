using Cassandra;
using ISession = Cassandra.ISession;
using Cassandra.OpenTelemetry;
using Microsoft.Extensions.Options;
using UserStream.Sink.Cassandra;

namespace UserStream.Services.Sink.Cassandra;

/// <summary>The prepared statements of the store, over the process's one session.</summary>
internal sealed record CassandraStatements(
    ISession Session,
    PreparedStatement InsertUser,
    PreparedStatement InsertUserByDay,
    PreparedStatement SelectUser,
    PreparedStatement SelectDayIndex,
    PreparedStatement CountUsers);

/// <summary>
/// The process's one Cassandra cluster connection and session (sessions are thread-safe and pool their
/// connections). Opened on first use: connects, creates the keyspace and tables if missing, prepares the
/// statements. A failed attempt is cleaned up and the next call tries again.
/// </summary>
internal sealed partial class CassandraConnection(
    CassandraConnectionSettings settings,
    IOptions<CassandraStoreOptions> options,
    ILogger<CassandraConnection> logger) : IAsyncDisposable
{
    private readonly SemaphoreSlim _opening = new(1, 1);
    private ICluster? _cluster;
    private CassandraStatements? _statements;

    public async Task<CassandraStatements> OpenAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _statements) is { } open)
        {
            return open;
        }

        await _opening.WaitAsync(cancellationToken);
        try
        {
            if (_statements is { } openedMeanwhile)
            {
                return openedMeanwhile;
            }

            var schema = new CassandraSchema(options.Value);
            var cluster = BuildCluster();
            try
            {
                var session = await cluster.ConnectAsync().WaitAsync(cancellationToken);
                foreach (var ddl in schema.Ddl)
                {
                    await session.ExecuteAsync(new SimpleStatement(ddl)).WaitAsync(cancellationToken);
                }

                var statements = new CassandraStatements(
                    session,
                    await PrepareAsync(session, schema.InsertUser, cancellationToken),
                    await PrepareAsync(session, schema.InsertUserByDay, cancellationToken),
                    await PrepareAsync(session, schema.SelectUser, cancellationToken),
                    await PrepareAsync(session, schema.SelectDayIndex, cancellationToken),
                    await PrepareAsync(session, schema.CountUsers, cancellationToken));

                _cluster = cluster;
                Volatile.Write(ref _statements, statements);
                LogOpened(logger, settings, schema.Keyspace);
                return statements;
            }
            catch
            {
                await cluster.ShutdownAsync();
                throw;
            }
        }
        finally
        {
            _opening.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_cluster is { } cluster)
        {
            await cluster.ShutdownAsync();
        }

        _opening.Dispose();
    }

    private Cluster BuildCluster()
    {
        var store = options.Value;
        var builder = Cluster.Builder()
            .AddContactPoints(settings.ContactPoints)
            .WithPort(settings.Port)
            .WithQueryOptions(new QueryOptions()
                .SetConsistencyLevel(Enum.Parse<ConsistencyLevel>(store.Consistency))
                .SetDefaultIdempotence(true))
            .WithReconnectionPolicy(new ExponentialReconnectionPolicy(1_000, 60_000))
            .WithApplicationName("userstream-sink")
            .WithOpenTelemetryInstrumentation();

        if (settings.Username is not null && settings.Password is not null)
        {
            builder = builder.WithCredentials(settings.Username, settings.Password);
        }

        if (settings.UseSsl)
        {
            builder = builder.WithSSL();
        }

        if (!string.IsNullOrWhiteSpace(store.LocalDatacenter))
        {
            builder = builder.WithLoadBalancingPolicy(new DefaultLoadBalancingPolicy(store.LocalDatacenter));
        }

        return builder.Build();
    }

    private static async Task<PreparedStatement> PrepareAsync(ISession session, string cql, CancellationToken cancellationToken)
    {
        var prepared = await session.PrepareAsync(cql).WaitAsync(cancellationToken);
        return prepared.SetIdempotence(true);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Cassandra store ready at {Cassandra}, keyspace {Keyspace}")]
    private static partial void LogOpened(ILogger logger, CassandraConnectionSettings cassandra, string keyspace);
}
