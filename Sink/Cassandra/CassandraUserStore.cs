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
/// older version never overwrites a newer one. No multi-partition logged batches: writes run concurrently,
/// at most <c>Sink:Cassandra:MaxConcurrentWrites</c> requests in flight.
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
        var writes = new List<Task>(users.Count * 2);
        foreach (var user in users)
        {
            var writeTimestamp = CassandraTime.WriteTimestamp(user.IngestedAt);
            object?[] row = [.. CassandraUserRow.ToValues(user), writeTimestamp];
            writes.Add(ExecuteAsync(db.Session, db.InsertUser.Bind(row), cancellationToken));
            writes.Add(ExecuteAsync(
                db.Session,
                db.InsertUserByDay.Bind(
                    CassandraTime.DayBucket(user.IngestedAt), CassandraTime.ToColumnPrecision(user.IngestedAt), user.Id, writeTimestamp),
                cancellationToken));
        }

        // Every write runs to its end; the batch is durable only when all succeeded, else the first failure is thrown.
        await Task.WhenAll(writes);
    }

    public bool IsTransient(Exception exception) => exception switch
    {
        AggregateException aggregate => aggregate.InnerExceptions.Count > 0 && aggregate.InnerExceptions.All(IsTransient),
        NoHostAvailableException
            or OperationTimedOutException
            or WriteTimeoutException
            or ReadTimeoutException
            or UnavailableException
            or OverloadedException
            or IsBootstrappingException
            or BusyPoolException
            or TimeoutException => true,
        InvalidQueryException or SyntaxError => false,
        _ => false,
    };

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
