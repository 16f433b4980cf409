using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using UserStream.Process.Routing;
using UserStream.Process.Validation;
using UserStream.Process.Worker;
using UserStream.Streaming.Hosting;
using UserStream.Streaming.Telemetry;

namespace UserStream.Process;

public static class ProcessStageExtensions
{
    /// <summary>
    /// The process stage: options (section <c>Process</c>, validated at startup), Kafka clients (section
    /// <c>Kafka</c>), telemetry (<c>UserStream.Process</c>) and the exactly-once worker that turns
    /// users_created into users_enriched, dead-lettering rejects into users_dlq, with its health check
    /// (<c>processor-worker</c>).
    /// </summary>
    public static IHostApplicationBuilder AddProcessStage(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddStage<ProcessOptions>(builder.Configuration, ProcessOptions.SectionName, StageTelemetry.Process);
        services.TryAddSingleton(sp => new UserValidator(sp.GetRequiredService<IOptions<ProcessOptions>>().Value.Validation));
        services.TryAddSingleton<RecordRouter>();
        services.TryAddSingleton<ProcessMetrics>();
        services.AddWorkerHealth(ProcessWorker.Name, ProcessMetrics.Worker, sp => sp.GetRequiredService<IOptions<ProcessOptions>>().Value.Health);
        services.AddHostedService<ProcessWorker>();
        return builder;
    }
}
