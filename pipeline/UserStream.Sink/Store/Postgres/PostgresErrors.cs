using System.Net.Sockets;

namespace UserStream.Sink.Store.Postgres;

/// <summary>
/// Tells PostgreSQL failures caused by the data written (which no retry can fix, so the record is to blame)
/// from failures of the store itself (outage, restart, timeout, missing table, lost privilege), which are
/// retried until they pass: a store problem must never turn the stream into dead letters.
/// </summary>
internal static class PostgresErrors
{
    public static bool IsTransient(Exception exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            switch (current)
            {
                case PostgresException postgres:
                    return !IsCausedByData(postgres.SqlState);
                case NpgsqlException:
                    // Not a server error: the connection, the pool or the protocol failed, not the record.
                case SocketException:
                case TimeoutException:
                case IOException:
                    return true;
                case OperationCanceledException:
                    // Our own cancellation (stopping), not the store's failure.
                    return false;
                default:
                    break;
            }
        }

        return false;
    }

    /// <summary>
    /// data_exception (22xxx: e.g. 22021 a NUL character in text, 22P02 bad input), integrity_constraint_violation
    /// (23xxx) and program_limit_exceeded (54xxx: e.g. a value too large to index). Everything else — connection
    /// exceptions (08xxx), "database is not accepting connections" (55000), admin shutdown (57P01),
    /// cannot_connect_now (57P03), too many connections (53300), serialization failures, undefined table — is
    /// the store's state, not the record's.
    /// </summary>
    private static bool IsCausedByData(string sqlState) =>
        sqlState.StartsWith("22", StringComparison.Ordinal)
        || sqlState.StartsWith("23", StringComparison.Ordinal)
        || sqlState.StartsWith("54", StringComparison.Ordinal);
}
