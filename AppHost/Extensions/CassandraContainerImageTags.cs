namespace Aspire.Hosting;

/// <summary>The Cassandra image the AppHost runs: one place to move its version.</summary>
internal static class CassandraContainerImageTags
{
    /// <summary>docker.io</summary>
    public const string Registry = "docker.io";

    /// <summary>library/cassandra</summary>
    public const string Image = "library/cassandra";

    /// <summary>5.0</summary>
    public const string Tag = "5.0";
}
