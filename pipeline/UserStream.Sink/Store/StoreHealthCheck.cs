namespace UserStream.Sink.Store;

/// <summary>
/// The sink's store as part of readiness (<see cref="Name"/>): Unhealthy until its schema exists and whenever its
/// probe (<see cref="IUserStore.ProbeAsync"/>, bounded by <c>Sink:Retry:ProbeTimeout</c>) fails; Healthy when it answers.
/// The same for PostgreSQL and Cassandra.
/// </summary>
public sealed class StoreHealthCheck(IUserStore store, StoreReadiness readiness, IOptions<SinkOptions> options) : IHealthCheck
{
    public const string Name = "sink-store";

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!readiness.IsReady)
        {
            return await readiness.CheckHealthAsync(context, cancellationToken);
        }

        var timeout = options.Value.Retry.ProbeTimeout;
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(timeout);
        try
        {
            await store.ProbeAsync(bounded.Token);
            return HealthCheckResult.Healthy("the store answers");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"the store did not answer its probe within {timeout}");
        }
#pragma warning disable CA1031 // Any failure of the probe is the answer: the store is not usable now.
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
#pragma warning restore CA1031
        {
            return HealthCheckResult.Unhealthy($"the store does not answer: {e.Message}", e);
        }
    }
}
