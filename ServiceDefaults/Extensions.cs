namespace Microsoft.Extensions.Hosting;

/// <summary>
/// What every UserStream service sets up the same way, in Aspire's service-defaults shape: OpenTelemetry
/// logs, metrics and traces (exported over OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set, as Aspire
/// does for its resources), the pipeline's ActivitySources and Meters, health checks served on
/// <c>/health</c> and <c>/alive</c>, service discovery, and standard resilience on every HttpClient.
/// </summary>
public static class ServiceDefaultsExtensions
{
    /// <summary>Every health check: the service and what it depends on (readiness).</summary>
    public const string HealthPath = "/health";

    /// <summary>Only the checks tagged <see cref="LiveTag"/>: the process is up (liveness).</summary>
    public const string AlivePath = "/alive";

    public const string LiveTag = "live";

    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);

        builder.AddOpenTelemetryDefaults();
        builder.AddDefaultHealthChecks();

        builder.Services.AddServiceDiscovery();
        builder.Services.ConfigureHttpClientDefaults(http =>
        {
            http.AddStandardResilienceHandler();
            http.AddServiceDiscovery();
        });

        return builder;
    }

    public static TBuilder AddOpenTelemetryDefaults<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);

        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });

        // The stages' own sources and meters (UserStream.Ingest/.Process/.Sink): the spans that carry a
        // user's trace through Kafka, and the pipeline's counters.
        string[] pipelineTelemetry = [.. StageTelemetry.AllNames];

        builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddMeter(pipelineTelemetry))
            .WithTracing(tracing => tracing
                .AddSource(builder.Environment.ApplicationName)
                .AddSource(pipelineTelemetry)
                .AddAspNetCoreInstrumentation(aspNetCore =>
                    aspNetCore.Filter = context => !IsHealthProbe(context.Request.Path))
                .AddHttpClientInstrumentation());

        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            builder.Services.AddOpenTelemetry().UseOtlpExporter();
        }

        return builder;
    }

    public static TBuilder AddDefaultHealthChecks<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);

        builder.Services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy(), [LiveTag]);

        return builder;
    }

    /// <summary>
    /// Maps <see cref="HealthPath"/> and <see cref="AlivePath"/>. They answer with the aggregate status
    /// only (Healthy / Degraded / Unhealthy, no check details), so they are mapped in every environment:
    /// the AppHost's health checks and container platforms' probes use them.
    /// </summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);

        app.MapHealthChecks(HealthPath);
        app.MapHealthChecks(AlivePath, new HealthCheckOptions
        {
            Predicate = registration => registration.Tags.Contains(LiveTag),
        });

        return app;
    }

    private static bool IsHealthProbe(PathString path) =>
        path.StartsWithSegments(HealthPath, StringComparison.OrdinalIgnoreCase)
        || path.StartsWithSegments(AlivePath, StringComparison.OrdinalIgnoreCase);
}
