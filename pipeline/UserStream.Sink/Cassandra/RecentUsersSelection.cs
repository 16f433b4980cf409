namespace UserStream.Sink.Cassandra;

/// <summary>An entry of <c>created_users_by_day</c>: a user id and the ingestion time it was indexed at.</summary>
public readonly record struct DayIndexEntry(DateTimeOffset IngestedAt, Guid Id);

/// <summary>
/// Builds the "most recent users" answer from <c>created_users_by_day</c> entries read newest first
/// (day by day, each day newest first) and the users they point to. A user re-ingested later has one
/// index entry per version; only its newest entry counts, and only while it still matches the user's
/// current row (an entry whose row has moved on, or has no row yet, is skipped).
/// </summary>
public sealed class RecentUsersSelection
{
    private readonly HashSet<Guid> _claimed = [];
    private readonly List<EnrichedUser> _users;

    public RecentUsersSelection(int limit)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        Limit = limit;
        _users = new List<EnrichedUser>(limit);
    }

    public int Limit { get; }

    /// <summary>True when <see cref="Limit"/> users have been accepted.</summary>
    public bool IsFull => _users.Count >= Limit;

    /// <summary>Users still needed.</summary>
    public int Remaining => Limit - _users.Count;

    /// <summary>The users accepted so far, newest ingestion first.</summary>
    public IReadOnlyList<EnrichedUser> Users => _users;

    /// <summary>
    /// Of a page of entries (in index order), those whose user must be looked up: the first sighting of
    /// each id. Later sightings are older versions of a user already claimed.
    /// </summary>
    public IReadOnlyList<DayIndexEntry> Claim(IEnumerable<DayIndexEntry> page)
    {
        ArgumentNullException.ThrowIfNull(page);
        return [.. page.Where(entry => _claimed.Add(entry.Id))];
    }

    /// <summary>
    /// Offers the user <paramref name="entry"/> points to (null when it has no row). Call in the order
    /// <see cref="Claim"/> returned the entries. Returns true when the user was accepted.
    /// </summary>
    public bool Offer(DayIndexEntry entry, EnrichedUser? current)
    {
        if (IsFull || current is null || current.Id != entry.Id
            || CassandraTime.ToColumnPrecision(current.IngestedAt) != CassandraTime.ToColumnPrecision(entry.IngestedAt))
        {
            return false;
        }

        _users.Add(current);
        return true;
    }
}
