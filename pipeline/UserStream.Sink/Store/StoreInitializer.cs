namespace UserStream.Sink.Store;

/// <summary>
/// Creates the store's schema at startup (<see cref="IUserStore.InitializeAsync"/>), retrying with a growing
/// pause (0.5 s doubling to 30 s, the toolkit's <see cref="Backoff"/>) until the store is reachable instead of
/// failing the process, then opens <see cref="StoreReadiness"/>.
/// </summary>
public sealed partial class StoreInitializer(IUserStore store, StoreReadiness readiness, ILogger<StoreInitializer> logger)
    : BackgroundService
{
    private static readonly TimeSpan FirstPause = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan LongestPause = TimeSpan.FromSeconds(30);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var name = store.GetType().Name;
        var retry = Backoff.Exponential("store-initialize", FirstPause, LongestPause);
        retry.ShouldHandle = args => ValueTask.FromResult(
            args.Outcome.Exception is { } e && !(e is OperationCanceledException && stoppingToken.IsCancellationRequested));
        retry.OnRetry = args =>
        {
            var e = args.Outcome.Exception!;
            readiness.NotReady($"the store's schema could not be created yet: {e.Message}");
            if (store.IsTransient(e))
            {
                LogUnreachable(logger, e, name, args.AttemptNumber + 1, args.RetryDelay.TotalSeconds);
            }
            else
            {
                LogFailed(logger, e, name, args.AttemptNumber + 1, args.RetryDelay.TotalSeconds);
            }

            return ValueTask.CompletedTask;
        };

        var attempts = 0;
        try
        {
            // Any failure is logged and retried: the schema must eventually exist, the process must not crash-loop.
            await retry.ToPipeline(TimeProvider.System).ExecuteAsync(
                async token =>
                {
                    attempts++;
                    await store.InitializeAsync(token);
                },
                stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            return;
        }

        LogReady(logger, name, attempts);
        readiness.MarkReady();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Store} schema ready after {Attempts} attempt(s)")]
    private static partial void LogReady(ILogger logger, string store, int attempts);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Store} unreachable at startup (attempt {Attempt}); retrying in {PauseSeconds} s")]
    private static partial void LogUnreachable(ILogger logger, Exception exception, string store, int attempt, double pauseSeconds);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Store} schema creation failed (attempt {Attempt}); retrying in {PauseSeconds} s")]
    private static partial void LogFailed(ILogger logger, Exception exception, string store, int attempt, double pauseSeconds);
}
