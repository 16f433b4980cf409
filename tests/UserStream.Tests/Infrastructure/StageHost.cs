using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace UserStream.Tests.Infrastructure;

/// <summary>
/// One stage hosted in-process as its service hosts it (the library's <c>Add…Stage</c> and
/// <c>Map…Endpoints</c>), with configuration given as key/value pairs (the same keys as
/// appsettings/environment), HTTP served by an in-memory test server.
/// </summary>
public sealed class StageHost : IAsyncDisposable
{
    private bool _stopped;

    private StageHost(WebApplication app) => App = app;

    public WebApplication App { get; }

    public IServiceProvider Services => App.Services;

    public static async Task<StageHost> StartAsync(
        IReadOnlyDictionary<string, string?> settings,
        Action<WebApplicationBuilder> addStage,
        Action<WebApplication>? mapEndpoints = null,
        CancellationToken cancellationToken = default)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = Environments.Development });
        builder.WebHost.UseTestServer();
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(30));
        addStage(builder);

        var app = builder.Build();
        mapEndpoints?.Invoke(app);
        await app.StartAsync(cancellationToken);
        return new StageHost(app);
    }

    /// <summary>An HTTP client for the stage's endpoints.</summary>
    public HttpClient CreateClient() => App.GetTestClient();

    /// <summary>The stage's health check <paramref name="name"/> now, as <c>/health</c> would run it.</summary>
    public async Task<HealthReportEntry> HealthAsync(string name, CancellationToken cancellationToken = default)
    {
        var report = await Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(r => r.Name == name, cancellationToken);
        return report.Entries[name];
    }

    /// <summary>Graceful stop: hosted services drain in-flight work.</summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (!_stopped)
        {
            _stopped = true;
            await App.StopAsync(cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await App.DisposeAsync();
    }
}
