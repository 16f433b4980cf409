namespace UserStream.Sink.Cassandra;

/// <summary>A column of <c>created_users</c> and its CQL type.</summary>
public sealed record CassandraColumn(string Name, string CqlType);

/// <summary>
/// The row of <c>spark_streams.created_users</c>, from the column map (<see cref="CreatedUsersColumns"/>): the CQL type
/// of each column and the mapping between a row and a user. Values are the CLR types the DataStax driver binds and
/// returns: uuid ↔ <see cref="Guid"/>, text ↔ <see cref="string"/>, int ↔ <see cref="int"/>,
/// double ↔ <see cref="double"/>, timestamp ↔ <see cref="DateTimeOffset"/> (millisecond precision, UTC).
/// </summary>
public static class CassandraUserRow
{
    public const string Id = CreatedUsersColumns.Id;
    public const string IngestedAt = CreatedUsersColumns.IngestedAt;

    /// <summary>Every column, in the order of <see cref="ToValues"/>.</summary>
    public static IReadOnlyList<CassandraColumn> Columns { get; } =
        [.. CreatedUsersColumns.All.Select(c => new CassandraColumn(c.Name, CqlType(c.Type)))];

    /// <summary>The values of <paramref name="user"/>'s row, in <see cref="Columns"/> order (absent optional values are null).</summary>
    public static object?[] ToValues(EnrichedUser user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return [.. CreatedUsersColumns.All.Select(c => c.Value(user))];
    }

    /// <summary>
    /// The user a row holds. <paramref name="column"/> returns a column's value by name, null when the
    /// column is null. Timestamps come back at the column's millisecond precision.
    /// </summary>
    /// <exception cref="InvalidOperationException">When a column the user requires is null or of an unexpected type.</exception>
    public static EnrichedUser FromValues(Func<string, object?> column)
    {
        ArgumentNullException.ThrowIfNull(column);
        return CreatedUsersColumns.Read(name => column(name) switch
        {
            DateTimeOffset value => CassandraTime.ToColumnPrecision(value),
            DateTime value => CassandraTime.ToColumnPrecision(new DateTimeOffset(DateTime.SpecifyKind(value, DateTimeKind.Utc))),
            var other => other,
        });
    }

    private static string CqlType(ColumnType type) => type switch
    {
        ColumnType.Uuid => "uuid",
        ColumnType.Text => "text",
        ColumnType.Integer => "int",
        ColumnType.Double => "double",
        ColumnType.Timestamp => "timestamp",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };
}
