namespace UserStream.Sink.Cassandra;

/// <summary>What a Cassandra failure says about the record written.</summary>
public enum CassandraErrorKind
{
    /// <summary>The store's state (outage, timeout, overload, privilege, schema, driver): never the record's fault.</summary>
    Transient,

    /// <summary>The server refused the record's own values: no retry can fix it.</summary>
    RecordFault,
}

/// <summary>
/// Classifies the Cassandra driver's exceptions the way <c>PostgresErrors</c> classifies PostgreSQL's: only
/// an error that names the written values is the record's fault; everything else — NoHostAvailable,
/// OperationTimedOut, Write/ReadTimeout, Unavailable, Overloaded, IsBootstrapping, BusyPool, Unauthorized,
/// Authentication, ServerError, Write/ReadFailure, a missing keyspace or table ("unconfigured table"), a
/// syntax error, any exception not recognised — is transient: it is waited out while the store's probe
/// fails, and blamed on a record only when the store answers and still refuses that record alone.
/// Pure (by type name and message), so the table is testable without the driver or a server.
/// </summary>
public static class CassandraErrors
{
    /// <summary>The driver's exception for a request the server refused as invalid (value or schema).</summary>
    public const string InvalidQuery = "InvalidQueryException";

    /// <summary>
    /// What an <see cref="InvalidQuery"/> message says when the server refused a bound value (not the
    /// statement or the schema): Cassandra's messages for null/unset key parts, empty keys, bytes that do
    /// not validate as the column's type, oversized keys, values and mutations.
    /// </summary>
    public static readonly IReadOnlyList<string> ValueMessages =
    [
        "invalid null value",
        "invalid unset value",
        "key may not be empty",
        "didn't validate",
        "invalid utf-8",
        "invalid ascii",
        "is longer than maximum",
        "too large",
        "oversized",
        "expected 4 or 0 byte",
        "expected 8 or 0 byte",
        "expected 16 or 0 byte",
    ];

    /// <summary>Classifies one exception by its type's name and its message (the type itself, not its bases).</summary>
    public static CassandraErrorKind Classify(string typeName, string? message) =>
        typeName == InvalidQuery && message is not null
            && ValueMessages.Any(m => message.Contains(m, StringComparison.OrdinalIgnoreCase))
            ? CassandraErrorKind.RecordFault
            : CassandraErrorKind.Transient;

    /// <summary>
    /// True when <paramref name="exception"/> may be the store's state. An aggregate (the failures of a batch's
    /// concurrent writes, every one observed) is the records' fault only when every failure in it is; a
    /// wrapper (inner exception) is judged by what it wraps; our own cancellation is not the store's failure.
    /// </summary>
    public static bool IsTransient(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return exception switch
        {
            AggregateException aggregate => aggregate.InnerExceptions.Count == 0 || aggregate.InnerExceptions.Any(IsTransient),
            OperationCanceledException => false,
            _ when Classify(exception.GetType().Name, exception.Message) == CassandraErrorKind.RecordFault => false,
            { InnerException: { } inner } when exception.GetType().Name is "DriverException" or "Exception" => IsTransient(inner),
            _ => true,
        };
    }
}
