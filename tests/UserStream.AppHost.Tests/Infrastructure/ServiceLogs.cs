namespace UserStream.AppHost.Tests.Infrastructure;

/// <summary>
/// Writes the console output of every replica of the given services to <c>TestResults/apphost-logs/&lt;replica&gt;.log</c>,
/// so that a failed end-to-end run can be read afterwards (locally and in CI).
/// </summary>
internal static class ServiceLogs
{
    public static string Directory { get; } = Path.Combine(TestEnvironment.RepositoryRoot, "TestResults", "apphost-logs");

    public static Task Capture(DistributedApplication app, IReadOnlyCollection<string> services, CancellationToken cancellationToken)
    {
        System.IO.Directory.CreateDirectory(Directory);
        var loggers = app.Services.GetRequiredService<ResourceLoggerService>();
        var watching = new HashSet<string>(StringComparer.Ordinal);
        var copies = new List<Task>();
        return Task.Run(async () =>
        {
            try
            {
                await foreach (var resourceEvent in app.ResourceNotifications.WatchAsync(cancellationToken))
                {
                    if (services.Contains(resourceEvent.Resource.Name) && watching.Add(resourceEvent.ResourceId))
                    {
                        copies.Add(CopyAsync(loggers, resourceEvent.ResourceId, cancellationToken));
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }

            await Task.WhenAll(copies);
        }, CancellationToken.None);
    }

    private static async Task CopyAsync(ResourceLoggerService loggers, string resourceId, CancellationToken cancellationToken)
    {
        await using var file = new StreamWriter(Path.Combine(Directory, resourceId + ".log"), append: false) { AutoFlush = true };
        try
        {
            await foreach (var batch in loggers.WatchAsync(resourceId).WithCancellation(cancellationToken))
            {
                foreach (var line in batch)
                {
                    await file.WriteLineAsync(line.Content);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
