using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using UserStream.Ingest;
using UserStream.Process;
using UserStream.Sink;

namespace UserStream.Testing;

/// <summary>
/// One stage hosted in this process as its service hosts it (the library's <c>Add…Stage</c> and
/// <c>Map…Endpoints</c>), with configuration given as key/value pairs (the same keys as
/// appsettings/environment), HTTP served by an in-memory test server, or on a loopback port when asked
/// (benchmarks, which measure over real sockets). A stage that must be killed runs in a
/// <see cref="StageProcess"/> instead.
/// </summary>
public sealed class StageHost : IAsyncDisposable
{
    private readonly bool _loopback;
    private bool _stopped;

    private StageHost(WebApplication app, bool loopback)
    {
        App = app;
        _loopback = loopback;
    }

    public WebApplication App { get; }

    public IServiceProvider Services => App.Services;

    public static async Task<StageHost> StartAsync(
        IReadOnlyDictionary<string, string?> settings,
        Action<WebApplicationBuilder> addStage,
        Action<WebApplication>? mapEndpoints = null,
        bool loopback = false,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(addStage);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = Environments.Development });
        if (loopback)
        {
            builder.WebHost.UseUrls("http://127.0.0.1:0");
        }
        else
        {
            builder.WebHost.UseTestServer();
        }

        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(30));
        addStage(builder);

        var app = builder.Build();
        mapEndpoints?.Invoke(app);
        await app.StartAsync(cancellationToken);
        return new StageHost(app, loopback);
    }

    /// <summary>The ingest stage, ready (its ledger prepared), with a client of its HTTP API.</summary>
    public static async Task<IngestStage> StartIngestAsync(
        IReadOnlyDictionary<string, string?> settings,
        Action<IHostApplicationBuilder>? configure = null,
        bool loopback = false,
        CancellationToken cancellationToken = default)
    {
        var host = await StartAsync(
            settings,
            builder =>
            {
                builder.AddIngestStage();
                configure?.Invoke(builder);
            },
            app => app.MapIngestEndpoints(),
            loopback,
            cancellationToken);
        var api = new IngestApiClient(host.CreateClient());
        try
        {
            await api.WaitUntilReadyAsync(cancellationToken: cancellationToken);
        }
        catch
        {
            await host.DisposeAsync();
            throw;
        }

        return new IngestStage(host, api);
    }

    /// <summary>The process stage with its endpoints.</summary>
    public static Task<StageHost> StartProcessorAsync(
        IReadOnlyDictionary<string, string?> settings, bool loopback = false, CancellationToken cancellationToken = default) =>
        StartAsync(settings, b => b.AddProcessStage(), app => app.MapProcessEndpoints(), loopback, cancellationToken);

    /// <summary>The sink stage with its endpoints.</summary>
    public static Task<StageHost> StartSinkAsync(
        IReadOnlyDictionary<string, string?> settings, bool loopback = false, CancellationToken cancellationToken = default) =>
        StartAsync(settings, b => b.AddSinkStage(), app => app.MapSinkEndpoints(), loopback, cancellationToken);

    /// <summary>An HTTP client for the stage's endpoints.</summary>
    public HttpClient CreateClient() => _loopback ? new HttpClient { BaseAddress = new Uri(App.Urls.First()) } : App.GetTestClient();

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

/// <summary>A hosted ingest stage and a client of its API.</summary>
public sealed class IngestStage(StageHost host, IngestApiClient api) : IAsyncDisposable
{
    public StageHost Host { get; } = host;

    public IngestApiClient Api { get; } = api;

    public async ValueTask DisposeAsync()
    {
        Api.Dispose();
        await Host.DisposeAsync();
    }
}
