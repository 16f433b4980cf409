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

    /// <summary>
    /// True when <paramref name="exception"/> thrown by this store may be the store's state rather than the
    /// record's fault (outage, timeout, privilege, missing table...): such a failure is never blamed on a record
    /// while <see cref="ProbeAsync"/> fails. False only for errors that name the written values.
    /// </summary>
    bool IsTransient(Exception exception);

    /// <summary>
    /// A cheap check that the store answers and can take writes to its users table (one round trip, no
    /// write); throws when it cannot. Used as evidence while a batch keeps failing: a failing probe means an
    /// outage (wait), a passing one means the batch itself is refused (split, isolate, dead-letter).
    /// </summary>
    Task ProbeAsync(CancellationToken cancellationToken);

    Task<EnrichedUser?> GetAsync(Guid id, CancellationToken cancellationToken);

    /// <summary>The <paramref name="limit"/> most recently ingested users, newest first.</summary>
    Task<IReadOnlyList<EnrichedUser>> ListRecentAsync(int limit, CancellationToken cancellationToken);

    Task<long> CountAsync(CancellationToken cancellationToken);
}
