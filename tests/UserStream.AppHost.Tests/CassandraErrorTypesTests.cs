using System.Reflection;
using System.Runtime.CompilerServices;
using Cassandra;
using UserStream.Sink.Cassandra;

namespace UserStream.AppHost.Tests;

/// <summary>
/// The Cassandra classification against the driver's own exception types. The instances are made without
/// running a constructor (here the driver is a stand-in whose constructors throw; the types and their
/// hierarchy are the real ones); the message is set where the classification reads it.
/// </summary>
public sealed class CassandraErrorTypesTests
{
    /// <summary>Errors whose message decides: only an invalid query about a value is the record's fault.</summary>
    public static TheoryData<Type, string, bool> ByMessage => new()
    {
        { typeof(InvalidQueryException), "Invalid null value in condition for column id", false },
        { typeof(InvalidQueryException), "unconfigured table created_users", true },
        { typeof(InvalidConfigurationInQueryException), "Invalid null value", true },
        { typeof(UnauthorizedException), "User sink has no MODIFY permission", true },
    };

    /// <summary>Errors of the cluster, the connection or the statement, whatever their message.</summary>
    public static TheoryData<Type> AlwaysTransient => new(
        typeof(WriteTimeoutException), typeof(ReadTimeoutException), typeof(OperationTimedOutException),
        typeof(UnavailableException), typeof(OverloadedException), typeof(IsBootstrappingException), typeof(WriteFailureException),
        typeof(NoHostAvailableException), typeof(BusyPoolException),
        typeof(AuthenticationException), typeof(SyntaxError), typeof(TruncateException));

    [Theory]
    [MemberData(nameof(ByMessage))]
    public void Only_an_invalid_query_about_a_value_is_the_records_fault(Type type, string message, bool transient) =>
        Assert.Equal(transient, CassandraErrors.IsTransient(Instance(type, message)));

    [Theory]
    [MemberData(nameof(AlwaysTransient))]
    public void The_other_driver_errors_are_transient(Type type) =>
        Assert.True(CassandraErrors.IsTransient(Instance(type, message: null)));

    /// <summary>An exception of <paramref name="type"/> made without its constructor, its message set when given.</summary>
    private static Exception Instance(Type type, string? message)
    {
        var exception = (Exception)RuntimeHelpers.GetUninitializedObject(type);
        if (message is not null)
        {
            typeof(Exception).GetField("_message", BindingFlags.NonPublic | BindingFlags.Instance)!.SetValue(exception, message);
        }

        return exception;
    }
}
