namespace UserStream.Testing;

/// <summary>What the test run was given by the README's test command (eng/test.sh).</summary>
public static class TestEnvironment
{
    /// <summary>Set by CI runners; a missing peer is then a failure, never a skip.</summary>
    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// The repository's root (the folder holding <c>UserStream.sln</c>) above the running assembly, where
    /// <c>TestResults/</c> goes; the current directory when the assembly runs from elsewhere.
    /// </summary>
    public static string RepositoryRoot
    {
        get
        {
            for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            {
                if (File.Exists(Path.Combine(directory.FullName, "UserStream.sln")))
                {
                    return directory.FullName;
                }
            }

            return Directory.GetCurrentDirectory();
        }
    }

    /// <summary>
    /// Connection string of a PostgreSQL role allowed to create databases, from
    /// <c>USERSTREAM_TEST_POSTGRES</c>; eng/test.sh starts the server and sets it.
    /// </summary>
    public static string PostgresAdminConnectionString =>
        Environment.GetEnvironmentVariable("USERSTREAM_TEST_POSTGRES")
        ?? "Host=127.0.0.1;Port=5432;Username=postgres;Password=postgres";
}
