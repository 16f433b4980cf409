using Cassandra;

namespace Aspire.Hosting;

/// <summary>
/// Healthy when the Cassandra resource answers a CQL query (<c>SELECT release_version FROM system.local</c>)
/// on its endpoint. Keeps one driver session between checks; a failed check drops it so the next one reconnects.
/// </summary>
internal sealed class CassandraCqlHealthCheck(CassandraResource resource) : IHealthCheck, IAsyncDisposable
{
    private const string Probe = "SELECT release_version FROM system.local";

    private readonly SemaphoreSlim _gate = new(1, 1);
    private ICluster? _cluster;
    private ISession? _session;

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            _session ??= await ConnectAsync(cancellationToken);
            var rows = await _session.ExecuteAsync(new SimpleStatement(Probe).SetReadTimeoutMillis(5_000))
                .WaitAsync(cancellationToken);
            var version = rows.FirstOrDefault()?.GetValue<string>("release_version");
            return version is null
                ? new HealthCheckResult(context.Registration.FailureStatus, "system.local returned no release_version.")
                : HealthCheckResult.Healthy($"Cassandra {version} answers CQL.");
        }
        catch
        {
            await DisconnectAsync();
            throw;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await DisconnectAsync();
        _gate.Dispose();
    }

    private async Task<ISession> ConnectAsync(CancellationToken cancellationToken)
    {
        var endpoint = resource.PrimaryEndpoint;
        var cluster = Cluster.Builder()
            .AddContactPoint(endpoint.Host)
            .WithPort(endpoint.Port)
            .WithSocketOptions(new SocketOptions().SetConnectTimeoutMillis(2_000).SetReadTimeoutMillis(5_000))
            .WithReconnectionPolicy(new ConstantReconnectionPolicy(1_000))
            .Build();
        _cluster = cluster;
        return await cluster.ConnectAsync().WaitAsync(cancellationToken);
    }

    private async Task DisconnectAsync()
    {
        _session = null;
        if (_cluster is { } cluster)
        {
            _cluster = null;
            await cluster.ShutdownAsync();
        }
    }
}
