using UserStream.Contracts;
using UserStream.Services.Sink.Cassandra;
using UserStream.Sink;

namespace UserStream.Services.Sink;

internal static class Extensions
{
    /// <summary>
    /// The sink stage over the store <c>Sink:Store</c> selects (<see cref="SinkOptions.StoreOf"/>, the one selection and
    /// its one default): the Cassandra <c>IUserStore</c>, registered before the stage, or the stage's PostgreSQL
    /// store over the pipeline database from Aspire.Npgsql. Each replica gets its own instance id (unless configuration sets
    /// one), as the processor's do: a static member of the sink's consumer group under that id.
    /// </summary>
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddStageDefaults(SinkOptions.SectionName);

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
