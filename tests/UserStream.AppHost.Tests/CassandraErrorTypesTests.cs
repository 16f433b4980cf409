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
    public static TheoryData<Type, string?, bool> Table => new()
    {
        { typeof(InvalidQueryException), "Invalid null value in condition for column id", false },
        { typeof(InvalidQueryException), "unconfigured table created_users", true },
        { typeof(InvalidConfigurationInQueryException), "Invalid null value", true },
        { typeof(UnauthorizedException), "User sink has no MODIFY permission", true },
        { typeof(WriteTimeoutException), null, true },
        { typeof(ReadTimeoutException), null, true },
        { typeof(UnavailableException), null, true },
        { typeof(OverloadedException), null, true },
        { typeof(IsBootstrappingException), null, true },
        { typeof(WriteFailureException), null, true },
        { typeof(NoHostAvailableException), null, true },
        { typeof(OperationTimedOutException), null, true },
        { typeof(BusyPoolException), null, true },
        { typeof(AuthenticationException), null, true },
        { typeof(SyntaxError), null, true },
        { typeof(TruncateException), null, true },
    };

    [Theory]
    [MemberData(nameof(Table))]
    public void Only_an_invalid_query_about_a_value_is_the_records_fault(Type type, string? message, bool transient)
    {
        var exception = (Exception)RuntimeHelpers.GetUninitializedObject(type);
        if (message is not null)
        {
            typeof(Exception).GetField("_message", BindingFlags.NonPublic | BindingFlags.Instance)!.SetValue(exception, message);
        }

        Assert.Equal(transient, CassandraErrors.IsTransient(exception));
    }
}
