using UserStream.Sink.Cassandra;

namespace UserStream.Tests.Sink;

/// <summary>A user written as a created_users row reads back as the same user.</summary>
public sealed class CassandraUserRowTests
{
    [Fact]
    public void A_user_read_back_from_its_row_is_the_user_written_at_millisecond_precision()
    {
        var user = CassandraTestUsers.Complete();

        var read = CassandraUserRow.FromValues(CassandraTestUsers.AsRow(user));

        Assert.Equal(
            user with
            {
                Dob = CassandraTime.ToColumnPrecision(user.Dob),
                RegisteredDate = CassandraTime.ToColumnPrecision(user.RegisteredDate),
                IngestedAt = CassandraTime.ToColumnPrecision(user.IngestedAt),
                ProcessedAt = CassandraTime.ToColumnPrecision(user.ProcessedAt),
            },
            read);
        Assert.Equal(user.RegisteredDate, read.RegisteredDate);
    }

    [Fact]
    public void Absent_optional_values_are_written_as_nulls_and_read_back_as_absent()
    {
        var user = CassandraTestUsers.Complete() with { TimezoneOffset = null, Latitude = null, Longitude = null, RunId = null };

        var values = CassandraUserRow.ToValues(user);
        var read = CassandraUserRow.FromValues(CassandraTestUsers.AsRow(user));

        foreach (var name in new[] { "timezone_offset", "latitude", "longitude", "run_id" })
        {
            Assert.Null(values[IndexOf(name)]);
        }

        Assert.Null(read.TimezoneOffset);
        Assert.Null(read.Latitude);
        Assert.Null(read.Longitude);
        Assert.Null(read.RunId);
    }

    [Fact]
    public void The_row_has_the_original_columns_first_then_every_enrichment_column_once()
    {
        var names = CassandraUserRow.Columns.Select(c => c.Name).ToList();

        Assert.Equal(
            ["id", "first_name", "last_name", "gender", "address", "post_code", "email", "username", "dob", "registered_date", "phone", "picture"],
            names.Take(12));
        Assert.Equal(names.Count, names.Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(typeof(EnrichedUser).GetProperties().Length, names.Count);
        Assert.Equal(names.Count, CassandraUserRow.ToValues(CassandraTestUsers.Complete()).Length);
    }

    [Fact]
    public void A_row_missing_a_required_value_is_reported_not_read_as_a_default()
    {
        var row = CassandraTestUsers.AsRow(CassandraTestUsers.Complete());

        var error = Assert.Throws<InvalidOperationException>(
            () => CassandraUserRow.FromValues(name => name == "ingested_at" ? null : row(name)));

        Assert.Contains("ingested_at", error.Message, StringComparison.Ordinal);
    }

    private static int IndexOf(string column) =>
        CassandraUserRow.Columns.Select((c, i) => (c, i)).Single(x => x.c.Name == column).i;
}
