using System.Text.RegularExpressions;

namespace UserStream.Sink.Cassandra;

/// <summary>
/// How the Cassandra store (the Aspire shell's <c>IUserStore</c>) lays out and writes its data.
/// Section <c>Sink:Cassandra</c>. Where Cassandra is comes from <c>ConnectionStrings:cassandra</c>
/// (see <see cref="CassandraConnectionSettings"/>).
/// </summary>
public sealed partial class CassandraStoreOptions : IValidatableObject
{
    public const string SectionName = "Sink:Cassandra";

    /// <summary>A CQL identifier the store may put into statement text unquoted.</summary>
    public const string IdentifierPattern = "^[A-Za-z][A-Za-z0-9_]{0,47}$";

    /// <summary>A datacenter name the store may put into the keyspace's replication map.</summary>
    public const string DatacenterPattern = "^[A-Za-z0-9_.-]{1,64}$";

    public const string SimpleStrategy = "SimpleStrategy";
    public const string NetworkTopologyStrategy = "NetworkTopologyStrategy";

    /// <summary>Consistency levels a read or write may use (names of the driver's <c>ConsistencyLevel</c>).</summary>
    public static readonly IReadOnlyList<string> ConsistencyLevels =
        ["Any", "One", "Two", "Three", "Quorum", "All", "LocalQuorum", "EachQuorum", "LocalOne"];

    /// <summary>Keyspace of <c>created_users</c> (the original Spark job's <c>spark_streams</c>).</summary>
    [Required]
    [RegularExpression(IdentifierPattern, ErrorMessage = "Sink:Cassandra:Keyspace must be a plain CQL identifier (a letter, then letters, digits or '_', at most 48).")]
    public string Keyspace { get; set; } = "spark_streams";

    /// <summary>Replication class used when the keyspace is created: SimpleStrategy or NetworkTopologyStrategy.</summary>
    [Required]
    [AllowedValues(SimpleStrategy, NetworkTopologyStrategy, ErrorMessage = "Sink:Cassandra:ReplicationClass must be SimpleStrategy or NetworkTopologyStrategy.")]
    public string ReplicationClass { get; set; } = SimpleStrategy;

    /// <summary>Replicas of every row (in <see cref="LocalDatacenter"/> for NetworkTopologyStrategy).</summary>
    [Range(1, 12)]
    public int ReplicationFactor { get; set; } = 1;

    /// <summary>
    /// The datacenter the store talks to and, with NetworkTopologyStrategy, replicates into.
    /// Empty: the driver takes the contact points' datacenter.
    /// </summary>
    public string? LocalDatacenter { get; set; }

    /// <summary>Consistency level of every read and write.</summary>
    [Required]
    public string Consistency { get; set; } = "LocalQuorum";

    /// <summary>Most row writes in flight at once per process (each user is two idempotent single-partition inserts).</summary>
    [Range(1, 2048)]
    public int MaxConcurrentWrites { get; set; } = 64;

    /// <summary>How many days back (by ingestion day, UTC) "most recent" looks for users.</summary>
    [Range(1, 366)]
    public int RecentLookbackDays { get; set; } = 7;

    /// <summary>Read timeout of the count query, which scans the whole table.</summary>
    [Range(1, 3600)]
    public int CountTimeoutSeconds { get; set; } = 60;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!ConsistencyLevels.Contains(Consistency, StringComparer.Ordinal))
        {
            yield return new ValidationResult(
                $"Sink:Cassandra:Consistency must be one of {string.Join(", ", ConsistencyLevels)}.", [nameof(Consistency)]);
        }

        if (ReplicationClass == NetworkTopologyStrategy)
        {
            if (string.IsNullOrWhiteSpace(LocalDatacenter))
            {
                yield return new ValidationResult(
                    "Sink:Cassandra:LocalDatacenter is required with NetworkTopologyStrategy (it names the datacenter to replicate into).",
                    [nameof(LocalDatacenter)]);
            }
            else if (!DatacenterName().IsMatch(LocalDatacenter))
            {
                yield return new ValidationResult(
                    "Sink:Cassandra:LocalDatacenter may contain only letters, digits, '_', '.' and '-'.", [nameof(LocalDatacenter)]);
            }
        }
    }

    [GeneratedRegex(DatacenterPattern)]
    private static partial Regex DatacenterName();
}
