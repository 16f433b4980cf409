using UserStream.Contracts;

namespace UserStream.Sink.Cassandra;

/// <summary>A column of <c>created_users</c> and its CQL type.</summary>
public sealed record CassandraColumn(string Name, string CqlType);

/// <summary>
/// The row of <c>spark_streams.created_users</c>: the original Spark job's columns (id … picture) followed
/// by every enrichment column of <see cref="EnrichedUser"/>, and the mapping between a row and a user.
/// Values are the CLR types the DataStax driver binds and returns: uuid ↔ <see cref="Guid"/>,
/// text ↔ <see cref="string"/>, int ↔ <see cref="int"/>, double ↔ <see cref="double"/>,
/// timestamp ↔ <see cref="DateTimeOffset"/> (millisecond precision, UTC).
/// </summary>
public static class CassandraUserRow
{
    public const string Id = "id";
    public const string IngestedAt = "ingested_at";

    /// <summary>Every column, in the order of <see cref="ToValues"/>.</summary>
    public static IReadOnlyList<CassandraColumn> Columns { get; } =
    [
        new(Id, "uuid"),
        new("first_name", "text"),
        new("last_name", "text"),
        new("gender", "text"),
        new("address", "text"),
        new("post_code", "text"),
        new("email", "text"),
        new("username", "text"),
        new("dob", "timestamp"),
        new("registered_date", "timestamp"),
        new("phone", "text"),
        new("picture", "text"),
        new("full_name", "text"),
        new("age", "int"),
        new("age_band", "text"),
        new("nationality", "text"),
        new("email_domain", "text"),
        new("timezone_offset", "text"),
        new("latitude", "double"),
        new("longitude", "double"),
        new("phone_digits", "text"),
        new(IngestedAt, "timestamp"),
        new("processed_at", "timestamp"),
        new("run_id", "text"),
        new("schema_version", "int"),
    ];

    /// <summary>The values of <paramref name="user"/>'s row, in <see cref="Columns"/> order (absent optional values are null).</summary>
    public static object?[] ToValues(EnrichedUser user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return
        [
            user.Id,
            user.FirstName,
            user.LastName,
            user.Gender,
            user.Address,
            user.PostCode,
            user.Email,
            user.Username,
            user.Dob,
            user.RegisteredDate,
            user.Phone,
            user.Picture,
            user.FullName,
            user.Age,
            user.AgeBand,
            user.Nationality,
            user.EmailDomain,
            user.TimezoneOffset,
            user.Latitude,
            user.Longitude,
            user.PhoneDigits,
            user.IngestedAt,
            user.ProcessedAt,
            user.RunId,
            user.SchemaVersion,
        ];
    }

    /// <summary>
    /// The user a row holds. <paramref name="column"/> returns a column's value by name, null when the
    /// column is null. Timestamps come back at the column's millisecond precision.
    /// </summary>
    /// <exception cref="InvalidOperationException">When a column the user requires is null or of an unexpected type.</exception>
    public static EnrichedUser FromValues(Func<string, object?> column)
    {
        ArgumentNullException.ThrowIfNull(column);
        var id = Required<Guid>(column, Id);
        return new EnrichedUser
        {
            Id = id,
            FirstName = Text(column, "first_name"),
            LastName = Text(column, "last_name"),
            Gender = Text(column, "gender"),
            Address = Text(column, "address"),
            PostCode = Text(column, "post_code"),
            Email = Text(column, "email"),
            Username = Text(column, "username"),
            Dob = Timestamp(column, "dob"),
            RegisteredDate = Timestamp(column, "registered_date"),
            Phone = Text(column, "phone"),
            Picture = Text(column, "picture"),
            FullName = Text(column, "full_name"),
            Age = Required<int>(column, "age"),
            AgeBand = Text(column, "age_band"),
            Nationality = Text(column, "nationality"),
            EmailDomain = Text(column, "email_domain"),
            TimezoneOffset = column("timezone_offset") as string,
            Latitude = Optional<double>(column, "latitude"),
            Longitude = Optional<double>(column, "longitude"),
            PhoneDigits = Text(column, "phone_digits"),
            IngestedAt = Timestamp(column, IngestedAt),
            ProcessedAt = Timestamp(column, "processed_at"),
            RunId = column("run_id") as string,
            SchemaVersion = Optional<int>(column, "schema_version") ?? EnrichedUser.CurrentSchemaVersion,
        };
    }

    private static string Text(Func<string, object?> column, string name) => column(name) switch
    {
        null => "",
        string text => text,
        var other => throw Unexpected(name, other),
    };

    private static DateTimeOffset Timestamp(Func<string, object?> column, string name) => column(name) switch
    {
        DateTimeOffset value => CassandraTime.ToColumnPrecision(value),
        DateTime value => CassandraTime.ToColumnPrecision(new DateTimeOffset(DateTime.SpecifyKind(value, DateTimeKind.Utc))),
        null => throw new InvalidOperationException($"created_users column {name} is null."),
        var other => throw Unexpected(name, other),
    };

    private static T Required<T>(Func<string, object?> column, string name)
        where T : struct =>
        Optional<T>(column, name) ?? throw new InvalidOperationException($"created_users column {name} is null.");

    private static T? Optional<T>(Func<string, object?> column, string name)
        where T : struct => column(name) switch
        {
            null => null,
            T value => value,
            var other => throw Unexpected(name, other),
        };

    private static InvalidOperationException Unexpected(string name, object value) =>
        new($"created_users column {name} holds a {value.GetType().Name}, not the expected type.");
}
