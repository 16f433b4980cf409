using UserStream.Contracts;
using UserStream.Ingest;

namespace UserStream.Services.Ingestor;

internal static class Extensions
{
    /// <summary>
    /// The ingest stage with its Aspire clients: the pipeline database (run ledger) through Aspire.Npgsql,
    /// which the stage's <c>AddPipelineDatabase</c> then leaves in place, and the Kafka health check.
    /// randomuser.me is reached through service discovery (the AppHost's external service <c>randomuser</c>).
    /// Each replica gets its own instance id (as the processor's), so that it marks only its own leftover runs.
    /// </summary>
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddStageDefaults(IngestOptions.SectionName);
        builder.AddNpgsqlDataSource(ResourceNames.PipelineDatabase);
        builder.AddIngestStage();

        // The randomuser client retries with its own content-aware pipeline (an `error` field, an empty
        // `results` array and truncated JSON are failed attempts too), with a 30 s attempt timeout that a
        // page of 5,000 users needs. The standard handler ServiceDefaults gives every HttpClient would retry
        // on a second level and cut attempts at 10 s, so this client opts out of it.
#pragma warning disable EXTEXP0001 // RemoveAllResilienceHandlers is marked experimental.
        builder.Services.AddHttpClient(IngestStageExtensions.RandomUserHttpClientName).RemoveAllResilienceHandlers();
#pragma warning restore EXTEXP0001
    }
}
