using System.Net.Sockets;
using Npgsql;

namespace UserStream.Sink.Store.Postgres;

/// <summary>Tells PostgreSQL failures that may pass (outage, restart, timeout) from ones that will not (bad data).</summary>
internal static class PostgresErrors
{
    public static bool IsTransient(Exception exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            switch (current)
            {
                case PostgresException postgres:
                    return IsTransientState(postgres.SqlState) || postgres.IsTransient;
                case NpgsqlException { IsTransient: true }:
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

    /// <summary>SQLSTATE classes and codes that mean "not now" rather than "never".</summary>
    private static bool IsTransientState(string sqlState) => sqlState switch
    {
        // Data (22xxx) and integrity (23xxx) errors never pass on retry.
        _ when sqlState.StartsWith("22", StringComparison.Ordinal) || sqlState.StartsWith("23", StringComparison.Ordinal) => false,
        // connection_exception
        _ when sqlState.StartsWith("08", StringComparison.Ordinal) => true,
        // insufficient_resources (too many connections, disk full, out of memory)
        _ when sqlState.StartsWith("53", StringComparison.Ordinal) => true,
        // serialization_failure, deadlock_detected
        "40001" or "40P01" => true,
        // object_not_in_prerequisite_state: "database ... is not currently accepting connections"; lock_not_available
        "55000" or "55P03" => true,
        // admin_shutdown, crash_shutdown, cannot_connect_now, idle_session_timeout
        "57P01" or "57P02" or "57P03" or "57P05" => true,
        // query_canceled (statement_timeout)
        "57014" => true,
        _ => false,
    };
}
