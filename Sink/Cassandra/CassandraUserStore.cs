using Cassandra;
using ISession = Cassandra.ISession;
using Microsoft.Extensions.Options;
using UserStream.Contracts;
using UserStream.Sink.Cassandra;
using UserStream.Sink.Store;

namespace UserStream.Services.Sink.Cassandra;

/// <summary>
/// The sink's store in Cassandra (<c>spark_streams.created_users</c>, see <see cref="CassandraSchema"/>).
/// A user is two single-partition inserts — its row and its "most recent" index entry — both idempotent
/// and written <c>USING TIMESTAMP</c> its ingestion time, so a redelivered batch changes nothing and an
/// older version never overwrites a newer one. No multi-partition logged batches: users are written
/// concurrently (each: index entry, then row), at most <c>Sink:Cassandra:MaxConcurrentWrites</c> requests in
/// flight; a batch's failures are all reported (an <see cref="AggregateException"/>) and classified by
/// <see cref="CassandraErrors"/>, as PostgreSQL's are.
/// </summary>
internal sealed class CassandraUserStore(
    CassandraConnection connection,
    IOptions<CassandraStoreOptions> options,
    TimeProvider timeProvider) : IUserStore, IDisposable
{
    private readonly SemaphoreSlim _inFlight = new(options.Value.MaxConcurrentWrites, options.Value.MaxConcurrentWrites);

    public async Task InitializeAsync(CancellationToken cancellationToken) =>
        await connection.OpenAsync(cancellationToken);

    public async Task WriteAsync(IReadOnlyList<EnrichedUser> users, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(users);
        if (users.Count == 0)
        {
            return;
        }

        var db = await connection.OpenAsync(cancellationToken);
        var writes = users.Select(user => WriteUserAsync(db, user, cancellationToken)).ToList();
        try
        {
            await Task.WhenAll(writes);
        }
        catch (Exception) when (writes.Count(w => w.IsFaulted) > 1)
        {
            // Every failure of the batch, not only the first: the classification looks at all of them.
            throw new AggregateException(
                $"{writes.Count(w => w.IsFaulted)} of {writes.Count} user(s) were not written",
                writes.Where(w => w.IsFaulted).SelectMany(w => w.Exception!.InnerExceptions));
        }
    }

    public bool IsTransient(Exception exception) => CassandraErrors.IsTransient(exception);

    public async Task ProbeAsync(CancellationToken cancellationToken)
    {
        var db = await connection.OpenAsync(cancellationToken);
        foreach (var probe in new CassandraSchema(options.Value).Probes)
        {
            await ExecuteAsync(db.Session, new SimpleStatement(probe), cancellationToken);
        }
    }

    public async Task<EnrichedUser?> GetAsync(Guid id, CancellationToken cancellationToken)
    {
        var db = await connection.OpenAsync(cancellationToken);
        return await ReadUserAsync(db, id, cancellationToken);
    }

    public async Task<IReadOnlyList<EnrichedUser>> ListRecentAsync(int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        var db = await connection.OpenAsync(cancellationToken);
        var selection = new RecentUsersSelection(limit);

        foreach (var day in CassandraTime.DayBucketsBackFrom(timeProvider.GetUtcNow(), options.Value.RecentLookbackDays))
        {
            byte[]? pagingState = null;
            do
            {
                var query = db.SelectDayIndex.Bind(day).SetAutoPage(false).SetPageSize(Math.Max(selection.Remaining, 16));
                if (pagingState is not null)
                {
                    query = query.SetPagingState(pagingState);
                }

                var page = await db.Session.ExecuteAsync(query).WaitAsync(cancellationToken);
                var claimed = selection.Claim(page.Select(row => new DayIndexEntry(
                    row.GetValue<DateTimeOffset>(CassandraUserRow.IngestedAt), row.GetValue<Guid>(CassandraUserRow.Id))));
                var current = await Task.WhenAll(claimed.Select(entry => ReadUserAsync(db, entry.Id, cancellationToken)));
                for (var i = 0; i < claimed.Count; i++)
                {
                    selection.Offer(claimed[i], current[i]);
                }

                if (selection.IsFull)
                {
                    return selection.Users;
                }

                pagingState = page.PagingState;
            }
            while (pagingState is not null);
        }

        return selection.Users;
    }

    /// <summary>
    /// <c>SELECT COUNT(*)</c> over <c>created_users</c>: exact (each user once, whatever was redelivered)
    /// but a scan of every partition, so it is slow on a large table; it gets its own read timeout
    /// (<c>Sink:Cassandra:CountTimeoutSeconds</c>). A counter column was not used: increments are not
    /// idempotent, so a redelivered record would be counted twice.
    /// </summary>
    public async Task<long> CountAsync(CancellationToken cancellationToken)
    {
        var db = await connection.OpenAsync(cancellationToken);
        var count = db.CountUsers.Bind().SetReadTimeoutMillis(options.Value.CountTimeoutSeconds * 1000);
        var result = await ExecuteAsync(db.Session, count, cancellationToken);
        return result.First().GetValue<long>("count");
    }

    public void Dispose() => _inFlight.Dispose();

    /// <summary>
    /// One user: its "most recent" index entry first, then its row, both idempotent (<c>USING TIMESTAMP</c>). A
    /// user whose index write fails gets no row (so a dead-lettered user is never also stored); an index entry
    /// whose row failed is ignored by readers (it does not match a current row), and rewritten on redelivery.
    /// </summary>
    private async Task WriteUserAsync(CassandraStatements db, EnrichedUser user, CancellationToken cancellationToken)
    {
        var writeTimestamp = CassandraTime.WriteTimestamp(user.IngestedAt);
        await ExecuteAsync(
            db.Session,
            db.InsertUserByDay.Bind(
                CassandraTime.DayBucket(user.IngestedAt), CassandraTime.ToColumnPrecision(user.IngestedAt), user.Id, writeTimestamp),
            cancellationToken);
        object?[] row = [.. CassandraUserRow.ToValues(user), writeTimestamp];
        await ExecuteAsync(db.Session, db.InsertUser.Bind(row), cancellationToken);
    }

    private async Task<EnrichedUser?> ReadUserAsync(CassandraStatements db, Guid id, CancellationToken cancellationToken)
    {
        var rows = await ExecuteAsync(db.Session, db.SelectUser.Bind(id), cancellationToken);
        var row = rows.FirstOrDefault();
        return row is null ? null : CassandraUserRow.FromValues(column => row.IsNull(column) ? null : row[column]);
    }

    private async Task<RowSet> ExecuteAsync(ISession session, IStatement statement, CancellationToken cancellationToken)
    {
        await _inFlight.WaitAsync(cancellationToken);
        try
        {
            return await session.ExecuteAsync(statement.SetIdempotence(true));
        }
        finally
        {
            _inFlight.Release();
        }
    }
}
