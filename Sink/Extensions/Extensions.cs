using UserStream.Contracts;
using UserStream.Services.Sink.Cassandra;
using UserStream.Sink;

namespace UserStream.Services.Sink;

internal static class Extensions
{
    /// <summary>Configuration key of the sink instance's id, under which it is a static member of its consumer group.</summary>
    private const string InstanceIdKey = "Sink:InstanceId";

    /// <summary>
    /// The sink stage over the store <c>Sink:Store</c> selects (<see cref="SinkOptions.StoreOf"/>, the one selection and
    /// its one default): the Cassandra <c>IUserStore</c>, registered before the stage, or the stage's PostgreSQL
    /// store over the pipeline database from Aspire.Npgsql. Each replica gets its own instance id (unless configuration sets
    /// one), as the processor's do: a static member of the sink's consumer group under that id.
    /// </summary>
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.UseInstanceIdFor(InstanceIdKey);
        builder.AddKafkaHealthCheck();

        if (SinkOptions.StoreOf(builder.Configuration) == SinkStoreKind.Cassandra)
        {
            builder.AddCassandraUserStore();
        }
        else
        {
            builder.AddNpgsqlDataSource(ResourceNames.PipelineDatabase);
        }

        builder.AddSinkStage();
    }
}
