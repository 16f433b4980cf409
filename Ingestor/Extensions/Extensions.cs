using UserStream.Contracts;
using UserStream.Ingest;

namespace UserStream.Services.Ingestor;

internal static class Extensions
{
    /// <summary>
    /// The ingest stage with its Aspire clients: the pipeline database (run ledger) through Aspire.Npgsql,
    /// which the stage's <c>AddPipelineDatabase</c> then leaves in place, and the Kafka health check.
    /// randomuser.me is reached through service discovery (the AppHost's external service <c>randomuser</c>).
    /// </summary>
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddNpgsqlDataSource(ResourceNames.PipelineDatabase);
        builder.AddKafkaHealthCheck();
        builder.AddIngestStage();
    }
}
