using System.ComponentModel.DataAnnotations;
using System.Text.RegularExpressions;
using UserStream.Sink.Cassandra;

namespace UserStream.Tests.Sink;

/// <summary>The store's CQL: configured replication, every column written idempotently, no injected identifiers.</summary>
public sealed partial class CassandraSchemaTests
{
    [Fact]
    public void The_keyspace_is_created_with_the_configured_replication()
    {
        var simple = new CassandraSchema(new CassandraStoreOptions { ReplicationFactor = 3 });
        var topology = new CassandraSchema(new CassandraStoreOptions
        {
            Keyspace = "users_eu",
            ReplicationClass = CassandraStoreOptions.NetworkTopologyStrategy,
            LocalDatacenter = "westeurope",
            ReplicationFactor = 2,
        });

        Assert.Equal(
            "CREATE KEYSPACE IF NOT EXISTS spark_streams WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3} AND durable_writes = true",
            simple.CreateKeyspace);
        Assert.Equal(
            "CREATE KEYSPACE IF NOT EXISTS users_eu WITH replication = {'class': 'NetworkTopologyStrategy', 'westeurope': 2} AND durable_writes = true",
            topology.CreateKeyspace);
        Assert.Equal([topology.CreateKeyspace, topology.CreateUsersTable, topology.CreateUsersByDayTable], topology.Ddl);
        Assert.All(topology.Ddl.Skip(1), ddl => Assert.Contains("users_eu.created_users", ddl, StringComparison.Ordinal));
    }

    [Fact]
    public void The_users_table_has_every_column_keyed_by_id_and_the_index_is_newest_first_per_day()
    {
        var schema = new CassandraSchema(new CassandraStoreOptions());

        foreach (var column in CassandraUserRow.Columns)
        {
            Assert.Contains($"{column.Name} {column.CqlType}", schema.CreateUsersTable, StringComparison.Ordinal);
        }

        Assert.EndsWith("PRIMARY KEY (id))", schema.CreateUsersTable, StringComparison.Ordinal);
        Assert.Contains("PRIMARY KEY ((day), ingested_at, id)", schema.CreateUsersByDayTable, StringComparison.Ordinal);
        Assert.Contains("CLUSTERING ORDER BY (ingested_at DESC, id ASC)", schema.CreateUsersByDayTable, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_insert_binds_all_its_values_and_the_ingestion_time_as_write_timestamp()
    {
        var schema = new CassandraSchema(new CassandraStoreOptions());

        Assert.EndsWith("USING TIMESTAMP ?", schema.InsertUser, StringComparison.Ordinal);
        Assert.Equal(CassandraUserRow.Columns.Count + 1, Placeholders().Count(schema.InsertUser));
        Assert.EndsWith("USING TIMESTAMP ?", schema.InsertUserByDay, StringComparison.Ordinal);
        Assert.Equal(4, Placeholders().Count(schema.InsertUserByDay));
        Assert.DoesNotContain("BATCH", schema.InsertUser, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(1, Placeholders().Count(schema.SelectUser));
        Assert.Equal(1, Placeholders().Count(schema.SelectDayIndex));
    }

    [Theory]
    [InlineData("spark_streams; DROP KEYSPACE system_auth")]
    [InlineData("\"Quoted\"")]
    [InlineData("1users")]
    [InlineData("")]
    public void A_keyspace_that_is_not_a_plain_identifier_is_refused_by_validation_and_by_the_schema(string keyspace)
    {
        var options = new CassandraStoreOptions { Keyspace = keyspace };

        Assert.NotEmpty(Validate(options));
        Assert.Throws<ArgumentException>(() => new CassandraSchema(options));
    }

    [Fact]
    public void The_defaults_are_valid_and_a_topology_keyspace_without_datacenter_or_an_unknown_consistency_is_not()
    {
        Assert.Empty(Validate(new CassandraStoreOptions()));

        var withoutDatacenter = Validate(new CassandraStoreOptions { ReplicationClass = CassandraStoreOptions.NetworkTopologyStrategy });
        var badConsistency = Validate(new CassandraStoreOptions { Consistency = "Serial" });
        var badClass = Validate(new CassandraStoreOptions { ReplicationClass = "EverywhereStrategy" });

        Assert.Contains(withoutDatacenter, r => r.MemberNames.Contains(nameof(CassandraStoreOptions.LocalDatacenter)));
        Assert.Contains(badConsistency, r => r.MemberNames.Contains(nameof(CassandraStoreOptions.Consistency)));
        Assert.Contains(badClass, r => r.MemberNames.Contains(nameof(CassandraStoreOptions.ReplicationClass)));
    }

    private static List<ValidationResult> Validate(CassandraStoreOptions options)
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);
        return results;
    }

    [GeneratedRegex(@"\?")]
    private static partial Regex Placeholders();
}
