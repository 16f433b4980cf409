using UserStream.Process;

namespace UserStream.Services.Processor;

internal static class Extensions
{
    /// <summary>
    /// The process stage. Each replica gets its own instance id (unless configuration sets one): Aspire's
    /// per-replica <c>service.instance.id</c>, or the container replica's <c>HOSTNAME</c>, so that no two
    /// running processors share a Kafka transactional id.
    /// </summary>
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddStageDefaults(ProcessOptions.SectionName);
        builder.AddProcessStage();
    }
}
