using System.Data.Common;

namespace UserStream.Sink.Cassandra;

/// <summary>
/// Where Cassandra is, read from <c>ConnectionStrings:cassandra</c> in the DataStax driver's connection
/// string form: <c>Contact Points=host1,host2;Port=9042</c>, optionally with <c>Username</c>,
/// <c>Password</c> and <c>SSL=true</c> (managed services). Keys are case-insensitive.
/// </summary>
public sealed record CassandraConnectionSettings(
    IReadOnlyList<string> ContactPoints, int Port, string? Username, string? Password, bool UseSsl)
{
    public const int DefaultPort = 9042;

    private static readonly string[] KnownKeys = ["Contact Points", "Port", "Username", "Password", "SSL"];

    /// <exception cref="FormatException">When the string has no contact points, an invalid port, a
    /// username without a password (or the reverse) or a key this store does not understand.</exception>
    public static CassandraConnectionSettings Parse(string? connectionString)
    {
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new FormatException("ConnectionStrings:cassandra is empty; expected e.g. 'Contact Points=localhost;Port=9042'.");
        }

        var builder = new DbConnectionStringBuilder();
        try
        {
            builder.ConnectionString = connectionString;
        }
        catch (ArgumentException e)
        {
            throw new FormatException($"ConnectionStrings:cassandra is malformed: {e.Message}", e);
        }

        var unknown = builder.Keys.Cast<string>()
            .Where(key => !KnownKeys.Contains(key, StringComparer.OrdinalIgnoreCase))
            .ToList();
        if (unknown.Count > 0)
        {
            throw new FormatException(
                $"ConnectionStrings:cassandra has unknown key(s) {string.Join(", ", unknown)}; known keys: {string.Join(", ", KnownKeys)}.");
        }

        var contactPoints = (Value(builder, "Contact Points") ?? "")
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (contactPoints.Length == 0)
        {
            throw new FormatException("ConnectionStrings:cassandra has no 'Contact Points'.");
        }

        var port = DefaultPort;
        if (Value(builder, "Port") is { } portText
            && (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535))
        {
            throw new FormatException($"ConnectionStrings:cassandra has an invalid Port '{portText}'.");
        }

        var username = Value(builder, "Username");
        var password = Value(builder, "Password");
        if (string.IsNullOrEmpty(username) != string.IsNullOrEmpty(password))
        {
            throw new FormatException("ConnectionStrings:cassandra must have both Username and Password, or neither.");
        }

        var useSsl = false;
        if (Value(builder, "SSL") is { } sslText && !bool.TryParse(sslText, out useSsl))
        {
            throw new FormatException($"ConnectionStrings:cassandra has an invalid SSL value '{sslText}' (true or false).");
        }

        return new CassandraConnectionSettings(contactPoints, port, username, password, useSsl);
    }

    /// <summary>The settings without the password, for logs.</summary>
    public override string ToString() =>
        $"Contact Points={string.Join(",", ContactPoints)};Port={Port.ToString(CultureInfo.InvariantCulture)};SSL={UseSsl}" +
        (Username is null ? "" : $";Username={Username}");

    private static string? Value(DbConnectionStringBuilder builder, string key) =>
        builder.TryGetValue(key, out var value) && value is string text && text.Length > 0 ? text : null;
}
