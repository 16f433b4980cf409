using UserStream.Contracts;

namespace UserStream.Sink.Store;

/// <summary>
/// The sink's store port: where enriched users end up. Writes are idempotent upserts by
/// <see cref="EnrichedUser.Id"/> in which the version with the later <see cref="EnrichedUser.IngestedAt"/>
/// wins, so a redelivered record never adds a row and an older version never overwrites a newer one.
/// Implementations: PostgreSQL (here), Cassandra (the Aspire shell).
/// </summary>
public interface IUserStore
{
    /// <summary>Creates the schema if it is missing (idempotent; called once at startup).</summary>
    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>Writes <paramref name="users"/>; returns only when all are durable. Throws when any was not written.</summary>
    Task WriteAsync(IReadOnlyList<EnrichedUser> users, CancellationToken cancellationToken);

    /// <summary>True when <paramref name="exception"/> thrown by this store may succeed on retry (outage, timeout).</summary>
    bool IsTransient(Exception exception);

    Task<EnrichedUser?> GetAsync(Guid id, CancellationToken cancellationToken);

    /// <summary>The <paramref name="limit"/> most recently ingested users, newest first.</summary>
    Task<IReadOnlyList<EnrichedUser>> ListRecentAsync(int limit, CancellationToken cancellationToken);

    Task<long> CountAsync(CancellationToken cancellationToken);
}
