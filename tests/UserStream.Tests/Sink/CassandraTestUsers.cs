namespace UserStream.Tests.Sink;

/// <summary>Enriched users for the Cassandra store's pure logic (row mapping, recent selection).</summary>
internal static class CassandraTestUsers
{
    public static EnrichedUser Complete(Guid? id = null, DateTimeOffset? ingestedAt = null) => new()
    {
        Id = id ?? Guid.NewGuid(),
        FirstName = "Zoë",
        LastName = "O'Brien",
        Gender = "female",
        Address = "12 Rue de l'Église, Lyon, Auvergne-Rhône-Alpes, France",
        PostCode = "69001",
        Email = "zoe.obrien@example.com",
        Username = "bluecat871",
        Dob = new DateTimeOffset(1987, 3, 14, 9, 26, 53, 589, TimeSpan.Zero).AddTicks(1234),
        RegisteredDate = new DateTimeOffset(2015, 11, 2, 22, 1, 7, 123, TimeSpan.FromHours(2)),
        Phone = "04-79-34-88-12",
        Picture = "https://randomuser.me/api/portraits/med/women/44.jpg",
        FullName = "Zoë O'Brien",
        Age = 38,
        AgeBand = AgeBands.Of(38),
        Nationality = "FR",
        EmailDomain = "example.com",
        TimezoneOffset = "+01:00",
        Latitude = 45.764043,
        Longitude = 4.835659,
        PhoneDigits = "0479348812",
        IngestedAt = ingestedAt ?? new DateTimeOffset(2025, 6, 1, 12, 0, 0, TimeSpan.Zero).AddTicks(4_567),
        ProcessedAt = new DateTimeOffset(2025, 6, 1, 12, 0, 1, 250, TimeSpan.Zero),
        RunId = "run-42",
    };

    /// <summary>A row as the driver returns it: column name → value, timestamps at millisecond precision.</summary>
    public static Func<string, object?> AsRow(EnrichedUser user)
    {
        var values = CassandraRowValues(user);
        return name => values[name];
    }

    private static Dictionary<string, object?> CassandraRowValues(EnrichedUser user)
    {
        var columns = UserStream.Sink.Cassandra.CassandraUserRow.Columns;
        var values = UserStream.Sink.Cassandra.CassandraUserRow.ToValues(user);
        var row = new Dictionary<string, object?>(StringComparer.Ordinal);
        for (var i = 0; i < columns.Count; i++)
        {
            row[columns[i].Name] = values[i] is DateTimeOffset timestamp
                ? UserStream.Sink.Cassandra.CassandraTime.ToColumnPrecision(timestamp)
                : values[i];
        }

        return row;
    }
}
