using System.Buffers;

namespace UserStream.Sink.Store;

/// <summary>The kinds of value a <c>created_users</c> column holds; each store maps them to its own types.</summary>
public enum ColumnType
{
    Uuid,
    Text,
    Integer,
    Double,
    Timestamp,
}

/// <summary>
/// One column of <c>created_users</c>: its name (the contract's JSON name of the field), the kind of value, whether
/// it may be null, and how a user's value is read.
/// </summary>
public sealed record UserColumn(string Name, ColumnType Type, bool Nullable, Func<EnrichedUser, object?> Value);

/// <summary>
/// The column map of <c>created_users</c>: the one place that lists its columns. Both stores' DDL, statements,
/// parameters and row readers follow from it, and the sink's missing-field check too. The original Spark job's
/// columns come first (id … picture), then every enrichment column of <see cref="EnrichedUser"/>. A column's name is
/// its field's name in the contract's JSON, so a row reads back through the contract's own deserialisation
/// (<see cref="Read"/>). Adding a field: the contract (<see cref="EnrichedUser"/>) and one line here.
/// </summary>
public static class CreatedUsersColumns
{
    public const string Id = "id";
    public const string IngestedAt = "ingested_at";
    public const string SchemaVersion = "schema_version";

    /// <summary>Every column, in order.</summary>
    public static IReadOnlyList<UserColumn> All { get; } =
    [
        new(Id, ColumnType.Uuid, false, u => u.Id),
        new("first_name", ColumnType.Text, false, u => u.FirstName),
        new("last_name", ColumnType.Text, false, u => u.LastName),
        new("gender", ColumnType.Text, false, u => u.Gender),
        new("address", ColumnType.Text, false, u => u.Address),
        new("post_code", ColumnType.Text, false, u => u.PostCode),
        new("email", ColumnType.Text, false, u => u.Email),
        new("username", ColumnType.Text, false, u => u.Username),
        new("dob", ColumnType.Timestamp, false, u => u.Dob),
        new("registered_date", ColumnType.Timestamp, false, u => u.RegisteredDate),
        new("phone", ColumnType.Text, false, u => u.Phone),
        new("picture", ColumnType.Text, false, u => u.Picture),
        new(SchemaVersion, ColumnType.Integer, false, u => u.SchemaVersion),
        new("full_name", ColumnType.Text, false, u => u.FullName),
        new("age", ColumnType.Integer, false, u => u.Age),
        new("age_band", ColumnType.Text, false, u => u.AgeBand),
        new("nationality", ColumnType.Text, false, u => u.Nationality),
        new("email_domain", ColumnType.Text, false, u => u.EmailDomain),
        new("timezone_offset", ColumnType.Text, true, u => u.TimezoneOffset),
        new("latitude", ColumnType.Double, true, u => u.Latitude),
        new("longitude", ColumnType.Double, true, u => u.Longitude),
        new("phone_digits", ColumnType.Text, false, u => u.PhoneDigits),
        new(IngestedAt, ColumnType.Timestamp, false, u => u.IngestedAt),
        new("processed_at", ColumnType.Timestamp, false, u => u.ProcessedAt),
        new("run_id", ColumnType.Text, true, u => u.RunId),
    ];

    /// <summary>The non-nullable columns of reference type, and the id (which may arrive empty).</summary>
    private static readonly UserColumn[] CanBeMissing =
        [.. All.Where(c => !c.Nullable && c.Type is ColumnType.Text or ColumnType.Uuid)];

    /// <summary>The column names, comma-separated, in order.</summary>
    public static string NameList { get; } = string.Join(", ", All.Select(c => c.Name));

    /// <summary>
    /// The first column that must hold a value and does not in <paramref name="user"/> (a decoded value whose
    /// non-nullable strings arrived as JSON null, or an empty id), or null. Only those columns can lack a value (the
    /// others hold value types), so only they are looked at: the sink calls this for every record.
    /// </summary>
    public static string? FirstMissing(EnrichedUser user)
    {
        ArgumentNullException.ThrowIfNull(user);
        foreach (var column in CanBeMissing)
        {
            var value = column.Value(user);
            if (value is null || (value is Guid id && id == Guid.Empty))
            {
                return column.Name;
            }
        }

        return null;
    }

    /// <summary>
    /// The user a row holds. <paramref name="value"/> returns a column's value by name (null for a null column) as
    /// the store returns it: <see cref="Guid"/>, <see cref="string"/>, <see cref="int"/>, <see cref="double"/>,
    /// <see cref="DateTimeOffset"/> or a UTC <see cref="DateTime"/>. A null text column reads as empty, a null
    /// schema version as the current one (rows written before it existed).
    /// </summary>
    /// <exception cref="InvalidOperationException">A column the user requires is null or holds an unexpected type.</exception>
    public static EnrichedUser Read(Func<string, object?> value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var json = new ArrayBufferWriter<byte>(2048);
        using (var writer = new Utf8JsonWriter(json))
        {
            writer.WriteStartObject();
            foreach (var column in All)
            {
                Write(writer, column, value(column.Name));
            }

            writer.WriteEndObject();
        }

        return EnrichedUserJson.Deserialize(json.WrittenSpan);
    }

    private static void Write(Utf8JsonWriter writer, UserColumn column, object? value)
    {
        writer.WritePropertyName(column.Name);
        switch (value)
        {
            case null when column.Type == ColumnType.Text:
                if (column.Nullable)
                {
                    writer.WriteNullValue();
                }
                else
                {
                    writer.WriteStringValue("");
                }

                break;
            case null when column.Name == SchemaVersion:
                writer.WriteNumberValue(EnrichedUser.CurrentSchemaVersion);
                break;
            case null when column.Nullable:
                writer.WriteNullValue();
                break;
            case null:
                throw new InvalidOperationException($"created_users column {column.Name} is null.");
            case Guid uuid when column.Type == ColumnType.Uuid:
                writer.WriteStringValue(uuid);
                break;
            case string text when column.Type == ColumnType.Text:
                writer.WriteStringValue(text);
                break;
            case int number when column.Type == ColumnType.Integer:
                writer.WriteNumberValue(number);
                break;
            case double number when column.Type == ColumnType.Double:
                writer.WriteNumberValue(number);
                break;
            case DateTimeOffset timestamp when column.Type == ColumnType.Timestamp:
                writer.WriteStringValue(timestamp);
                break;
            case DateTime timestamp when column.Type == ColumnType.Timestamp:
                writer.WriteStringValue(new DateTimeOffset(DateTime.SpecifyKind(timestamp, DateTimeKind.Utc)));
                break;
            default:
                throw new InvalidOperationException($"created_users column {column.Name} holds a {value.GetType().Name}, not the expected type.");
        }
    }
}
