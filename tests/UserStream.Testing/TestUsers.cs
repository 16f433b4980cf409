using System.Globalization;
using Confluent.Kafka;
using UserStream.Contracts;
using UserStream.Streaming.Kafka;

namespace UserStream.Testing;

/// <summary>
/// Enriched users as the processor would produce them (several scripts, missing coordinates, timezones and
/// run ids), at the precision PostgreSQL keeps (microseconds). For the sink's tests and benchmark.
/// </summary>
public static class TestUsers
{
    private static readonly string[] FirstNames = ["Zoë", "李", "Ana", "Björn", "Øyvind", "María José", "O'Brien", "Ελένη"];
    private static readonly string[] Nationalities = ["NO", "CN", "ES", "DE", "", "IE", "GR", "BR"];

    public static List<EnrichedUser> Users(int count, int seed = 1, DateTimeOffset? ingestedAt = null)
    {
        var random = new Random(seed);
        var baseTime = ingestedAt ?? Micro(DateTimeOffset.UtcNow);
        return [.. Enumerable.Range(0, count).Select(i => User(random, i, baseTime))];
    }

    public static EnrichedUser User(Random random, int i, DateTimeOffset ingestedAt)
    {
        var first = FirstNames[i % FirstNames.Length];
        var last = "Nordmann-" + i.ToString(CultureInfo.InvariantCulture);
        var dob = Micro(new DateTimeOffset(1950, 1, 1, 0, 0, 0, TimeSpan.Zero).AddTicks((long)(random.NextDouble() * TimeSpan.FromDays(365 * 55).Ticks)));
        var age = 18 + random.Next(60);
        var hasGeo = i % 5 != 0;
        return new EnrichedUser
        {
            Id = Guid.NewGuid(),
            FirstName = first,
            LastName = last,
            Gender = i % 2 == 0 ? "female" : "male",
            Address = $"{random.Next(1, 9999)} Storgata, Oslo, Oslo, Norway",
            PostCode = i % 3 == 0 ? "N-0150" : random.Next(10000, 99999).ToString(CultureInfo.InvariantCulture),
            Email = $"user{i}@example.com",
            Username = $"user{i}_{random.Next(1000)}",
            Dob = dob.ToOffset(TimeSpan.FromHours(i % 3)),
            RegisteredDate = Micro(DateTimeOffset.UtcNow.AddDays(-random.Next(1, 5000)).AddTicks(random.Next())),
            Phone = $"(0{i % 10}) {random.Next(100, 999)}-{random.Next(1000, 9999)}",
            Picture = $"https://randomuser.me/api/portraits/med/women/{i % 99}.jpg",
            FullName = $"{first} {last}",
            Age = age,
            AgeBand = AgeBands.Of(age),
            Nationality = Nationalities[i % Nationalities.Length],
            EmailDomain = "example.com",
            TimezoneOffset = i % 4 == 0 ? null : "+05:30",
            Latitude = hasGeo ? Math.Round(-90 + random.NextDouble() * 180, 4) : null,
            Longitude = hasGeo ? -180 + random.NextDouble() * 360 : null,
            PhoneDigits = random.NextInt64(1_000_000_000, 9_999_999_999).ToString(CultureInfo.InvariantCulture),
            IngestedAt = ingestedAt.AddTicks(i * 10),
            ProcessedAt = Micro(ingestedAt.AddMilliseconds(3).AddTicks(random.Next(0, 10_000_000))),
            RunId = i % 6 == 0 ? null : "run-" + (i / 100).ToString(CultureInfo.InvariantCulture),
        };
    }

    /// <summary>Truncated to whole microseconds (PostgreSQL's precision).</summary>
    public static DateTimeOffset Micro(DateTimeOffset value) => value.AddTicks(-(value.Ticks % 10));

    public static Message<string, byte[]> Message(EnrichedUser user) => Message(user.Id.ToString(), EnrichedUserJson.Serialize(user));

    public static Message<string, byte[]> Message(string key, byte[] value)
    {
        var headers = new Headers();
        headers.SetString(PipelineHeaders.SchemaVersion, EnrichedUser.CurrentSchemaVersion.ToString(CultureInfo.InvariantCulture));
        return new Message<string, byte[]> { Key = key, Value = value, Headers = headers };
    }
}
