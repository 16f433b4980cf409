using UserStream.Sink.Cassandra;

namespace UserStream.Tests.Sink;

/// <summary>The Cassandra classification table: only errors naming the record's own values are its fault.</summary>
public sealed class CassandraErrorsTests
{
    public static TheoryData<string, string?, CassandraErrorKind> Table => new()
    {
        { "InvalidQueryException", "Invalid null value in condition for column id", CassandraErrorKind.RecordFault },
        { "InvalidQueryException", "Key may not be empty", CassandraErrorKind.RecordFault },
        { "InvalidQueryException", "String didn't validate.", CassandraErrorKind.RecordFault },
        { "InvalidQueryException", "Key length of 70000 is longer than maximum of 65535", CassandraErrorKind.RecordFault },
        { "InvalidQueryException", "unconfigured table created_users", CassandraErrorKind.Transient },
        { "InvalidQueryException", "Keyspace spark_streams does not exist", CassandraErrorKind.Transient },
        { "InvalidQueryException", "Undefined column name age_band", CassandraErrorKind.Transient },
        { "InvalidConfigurationInQueryException", "Invalid null value", CassandraErrorKind.Transient },
        { "UnauthorizedException", "User sink has no MODIFY permission on <table spark_streams.created_users>", CassandraErrorKind.Transient },
        { "WriteTimeoutException", "Cassandra timeout during write query", CassandraErrorKind.Transient },
        { "ReadTimeoutException", null, CassandraErrorKind.Transient },
        { "UnavailableException", "Not enough replicas available", CassandraErrorKind.Transient },
        { "OverloadedException", null, CassandraErrorKind.Transient },
        { "IsBootstrappingException", null, CassandraErrorKind.Transient },
        { "ServerErrorException", "java.lang.RuntimeException", CassandraErrorKind.Transient },
        { "WriteFailureException", null, CassandraErrorKind.Transient },
        { "NoHostAvailableException", "All hosts tried for query failed", CassandraErrorKind.Transient },
        { "OperationTimedOutException", null, CassandraErrorKind.Transient },
        { "BusyPoolException", null, CassandraErrorKind.Transient },
        { "AuthenticationException", null, CassandraErrorKind.Transient },
        { "SyntaxError", "line 1:0 no viable alternative", CassandraErrorKind.Transient },
        { "SomethingNewException", "Invalid null value", CassandraErrorKind.Transient },
    };

    [Theory]
    [MemberData(nameof(Table))]
    public void Each_driver_error_is_transient_unless_it_names_the_written_values(string type, string? message, CassandraErrorKind expected) =>
        Assert.Equal(expected, CassandraErrors.Classify(type, message));

    [Fact]
    public void A_batch_is_the_records_fault_only_when_every_failure_in_it_is()
    {
        Assert.True(CassandraErrors.IsTransient(new TimeoutException()));
        Assert.True(CassandraErrors.IsTransient(new AggregateException(new TimeoutException(), new InvalidOperationException("x"))));
        Assert.True(CassandraErrors.IsTransient(new InvalidOperationException("whatever the driver threw")));
        Assert.False(CassandraErrors.IsTransient(new OperationCanceledException()));
    }
}
