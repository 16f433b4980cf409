using UserStream.Process.DeadLettering;
using UserStream.Process.Worker;

namespace UserStream.Process;

public static class ProcessStageExtensions
{
    /// <summary>
    /// The process stage: options (section <c>Process</c>, validated at startup), Kafka clients (section
    /// <c>Kafka</c>), telemetry (<c>UserStream.Process</c>) and the exactly-once worker that turns
    /// users_created into users_enriched, dead-lettering rejects into users_dlq, with its health check
    /// (<c>processor-worker</c>); and the dead letters' reader and exactly-once replayer (section
    /// <c>Process:DeadLetters</c>) behind the API of <see cref="MapProcessEndpoints"/>, whose replay requires the API
    /// key when one is configured (section <c>Api</c>).
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

        services.AddApiKeyProtection(builder.Configuration);
        services.TryAddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<ProcessOptions>>().Value;
            return new DeadLetterReader(
                sp.GetRequiredService<KafkaClientFactory>(), options.DeadLetterTopic, options.DeadLetters, sp.GetRequiredService<TimeProvider>());
        });
        services.TryAddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<ProcessOptions>>().Value;
            return new DeadLetterReplayer(
                sp.GetRequiredService<KafkaClientFactory>(), options.DeadLetterTopic, options.DeadLetters, sp.GetRequiredService<StageTelemetry>(),
                sp.GetRequiredService<ILoggerFactory>().CreateLogger<DeadLetterReplayer>(), sp.GetRequiredService<TimeProvider>());
        });
        return builder;
    }

    /// <summary>
    /// Maps the processor's API: <c>GET /dead-letters</c>, <c>GET /dead-letters/summary</c> and
    /// <c>POST /dead-letters/replay</c> (which requires the API key when <c>Api:Key</c> is set).
    /// </summary>
    public static IEndpointRouteBuilder MapProcessEndpoints(this IEndpointRouteBuilder endpoints) =>
        DeadLetterEndpoints.Map(endpoints);
}
