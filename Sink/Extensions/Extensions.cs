using UserStream.Contracts;
using UserStream.Services.Sink.Cassandra;
using UserStream.Sink;

namespace UserStream.Services.Sink;

internal static class Extensions
{
    /// <summary>Which store the sink writes to. Configuration key <c>Sink:Store</c>: <c>cassandra</c> (default) or <c>postgres</c>.</summary>
    private const string StoreKey = "Sink:Store";

    /// <summary>Configuration key of the sink instance's id, under which it is a static member of its consumer group.</summary>
    private const string InstanceIdKey = "Sink:InstanceId";

    /// <summary>
    /// The sink stage over the configured store: the Cassandra <c>IUserStore</c> (registered before the
    /// stage, whose PostgreSQL default is only a fallback), or the stage's PostgreSQL store over the
    /// pipeline database from Aspire.Npgsql. Each replica gets its own instance id (unless configuration sets
    /// one), as the processor's do: a static member of the sink's consumer group under that id.
    /// </summary>
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.UseInstanceIdFor(InstanceIdKey);
        builder.AddKafkaHealthCheck();

        var store = builder.Configuration[StoreKey] is { Length: > 0 } configured ? configured : "cassandra";
        if (string.Equals(store, "cassandra", StringComparison.OrdinalIgnoreCase))
        {
            builder.AddCassandraUserStore();
        }
        else if (string.Equals(store, "postgres", StringComparison.OrdinalIgnoreCase))
        {
            builder.AddNpgsqlDataSource(ResourceNames.PipelineDatabase);
        }
        else
        {
            throw new InvalidOperationException($"{StoreKey} is '{store}'; expected 'cassandra' or 'postgres'.");
        }

        builder.AddSinkStage();
    }
}
