using UserStream.Sink.Cassandra;

namespace UserStream.Tests.Sink;

/// <summary>"Most recent users" from the day index: each user once, at its current version, newest first.</summary>
public sealed class CassandraRecentUsersTests
{
    private static readonly DateTimeOffset Noon = new(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Users_come_newest_first_up_to_the_limit()
    {
        var users = Enumerable.Range(0, 5).Select(i => CassandraTestUsers.Complete(ingestedAt: Noon.AddMinutes(-i))).ToList();
        var selection = new RecentUsersSelection(3);

        var claimed = selection.Claim(users.Select(Entry));
        foreach (var entry in claimed)
        {
            selection.Offer(entry, users.Single(u => u.Id == entry.Id));
        }

        Assert.True(selection.IsFull);
        Assert.Equal(users.Take(3).Select(u => u.Id), selection.Users.Select(u => u.Id));
    }

    [Fact]
    public void A_user_ingested_twice_appears_once_as_its_newest_version()
    {
        var id = Guid.NewGuid();
        var newest = CassandraTestUsers.Complete(id, Noon);
        var other = CassandraTestUsers.Complete(ingestedAt: Noon.AddMinutes(-1));
        var page = new[] { Entry(newest), Entry(other), new DayIndexEntry(Noon.AddMinutes(-2), id) };
        var selection = new RecentUsersSelection(10);

        var claimed = selection.Claim(page);
        foreach (var entry in claimed)
        {
            selection.Offer(entry, entry.Id == id ? newest : other);
        }

        Assert.Equal(2, claimed.Count);
        Assert.Equal([id, other.Id], selection.Users.Select(u => u.Id));
        Assert.Empty(selection.Claim([new DayIndexEntry(Noon.AddDays(-1), id)]));
    }

    [Fact]
    public void An_entry_whose_user_has_moved_on_or_has_no_row_is_skipped()
    {
        var movedOn = CassandraTestUsers.Complete(ingestedAt: Noon.AddMinutes(5));
        var missing = Guid.NewGuid();
        var current = CassandraTestUsers.Complete(ingestedAt: Noon.AddMinutes(-3));
        var selection = new RecentUsersSelection(10);

        var claimed = selection.Claim([new DayIndexEntry(Noon, movedOn.Id), new DayIndexEntry(Noon.AddMinutes(-1), missing), Entry(current)]);
        var accepted = claimed.Select(entry => selection.Offer(entry, entry.Id == movedOn.Id ? movedOn : entry.Id == missing ? null : current)).ToList();

        Assert.Equal([false, false, true], accepted);
        Assert.Equal([current.Id], selection.Users.Select(u => u.Id));
    }

    [Fact]
    public void An_index_entry_matches_its_row_at_the_columns_millisecond_precision()
    {
        var user = CassandraTestUsers.Complete(ingestedAt: Noon.AddTicks(7_654));
        var stored = CassandraUserRow.FromValues(CassandraTestUsers.AsRow(user));
        var selection = new RecentUsersSelection(1);

        var entry = selection.Claim([new DayIndexEntry(CassandraTime.ToColumnPrecision(user.IngestedAt), user.Id)]).Single();

        Assert.True(selection.Offer(entry, stored));
    }

    private static DayIndexEntry Entry(EnrichedUser user) => new(CassandraTime.ToColumnPrecision(user.IngestedAt), user.Id);
}
