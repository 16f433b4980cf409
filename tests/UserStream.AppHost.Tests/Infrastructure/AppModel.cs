using UserStream.AppHost;

namespace UserStream.AppHost.Tests.Infrastructure;

/// <summary>
/// The AppHost's application model (<see cref="PipelineApplication.AddUserStreamPipeline"/>), built but never
/// started, with the given command line: what a user's <c>dotnet run --project AppHost</c> would run, readable without a container engine.
/// </summary>
internal sealed class AppModel : IAsyncDisposable
{
    private readonly DistributedApplication _app;

    private AppModel(DistributedApplication app) => _app = app;

    public DistributedApplicationModel Model => _app.Services.GetRequiredService<DistributedApplicationModel>();

    /// <summary>Container mode (the default): Kafka, PostgreSQL and Cassandra containers.</summary>
    public static Task<AppModel> ContainersAsync(params string[] args) =>
        BuildAsync([$"--Parameters:postgres-password={Guid.NewGuid():N}", .. args]);

    /// <summary>Existing-infrastructure mode: the three connections given as connection strings.</summary>
    public static Task<AppModel> ExistingAsync(params string[] args) =>
        BuildAsync(
        [
            "--Pipeline:UseExistingInfrastructure=true",
            "--ConnectionStrings:kafka=broker-1:9092,broker-2:9092",
            "--ConnectionStrings:pipeline-db=Host=db;Database=pipeline;Username=u;Password=p",
            "--ConnectionStrings:cassandra=Contact Points=cassandra-1;Port=9042",
            .. args,
        ]);

    private static Task<AppModel> BuildAsync(string[] args)
    {
        // The AppHost's own model on a plain builder in this process (as microsoft/aspire's hosting tests
        // build theirs), without running the AppHost's entry point: a testing host built from it but never
        // started can take 30 s to dispose (microsoft/aspire#7139).
        var builder = DistributedApplication.CreateBuilder(new DistributedApplicationOptions
        {
            Args = args,
            DisableDashboard = true,
            AssemblyName = typeof(PipelineApplication).Assembly.GetName().Name,
        });
        builder.AddUserStreamPipeline();
        return Task.FromResult(new AppModel(builder.Build()));
    }

    public IResource Resource(string name) => Model.Resources.Single(r => r.Name == name);

    public T Resource<T>(string name)
        where T : IResource => Assert.IsAssignableFrom<T>(Resource(name));

    /// <summary>
    /// The environment a resource gets, as a deployment manifest writes it (publish mode: references as
    /// <c>{resource.connectionString}</c> expressions, so the test reads the wiring rather than addresses).
    /// </summary>
    public async Task<Dictionary<string, string?>> EnvironmentAsync(IResource resource)
    {
        var execution = new DistributedApplicationExecutionContext(
            new DistributedApplicationExecutionContextOptions(DistributedApplicationOperation.Publish) { Services = _app.Services });
        var context = new EnvironmentCallbackContext(execution, resource);
        foreach (var callback in resource.Annotations.OfType<EnvironmentCallbackAnnotation>())
        {
            await callback.Callback(context);
        }

        return context.EnvironmentVariables.ToDictionary(
            kv => kv.Key,
            kv => kv.Value switch
            {
                string s => s,
                IManifestExpressionProvider expression => expression.ValueExpression,
                var other => other?.ToString(),
            });
    }

    /// <summary>How many replicas of <paramref name="resource"/> the model runs (1 without a replica annotation).</summary>
    public static int Replicas(IResource resource) =>
        resource.Annotations.OfType<ReplicaAnnotation>().SingleOrDefault()?.Replicas ?? 1;

    /// <summary>The resources <paramref name="resource"/> waits for, by name, with how it waits.</summary>
    public static Dictionary<string, WaitType> Waits(IResource resource) =>
        resource.Annotations.OfType<WaitAnnotation>().ToDictionary(w => w.Resource.Name, w => w.WaitType);

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
