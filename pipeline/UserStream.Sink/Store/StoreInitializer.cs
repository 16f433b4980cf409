using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace UserStream.Sink.Store;

/// <summary>
/// Creates the store's schema at startup (<see cref="IUserStore.InitializeAsync"/>), retrying with a growing
/// pause until the store is reachable instead of failing the process, then opens <see cref="StoreReadiness"/>.
/// </summary>
public sealed partial class StoreInitializer(IUserStore store, StoreReadiness readiness, ILogger<StoreInitializer> logger)
    : BackgroundService
{
    private static readonly TimeSpan FirstPause = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan LongestPause = TimeSpan.FromSeconds(30);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var pause = FirstPause;
        for (var attempt = 1; !stoppingToken.IsCancellationRequested; attempt++)
        {
            try
            {
                await store.InitializeAsync(stoppingToken);
                LogReady(logger, store.GetType().Name, attempt);
                readiness.MarkReady();
                return;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // Any failure is logged and retried: the schema must eventually exist, the process must not crash-loop.
            catch (Exception e)
#pragma warning restore CA1031
            {
                if (store.IsTransient(e))
                {
                    LogUnreachable(logger, e, store.GetType().Name, attempt, pause.TotalSeconds);
                }
                else
                {
                    LogFailed(logger, e, store.GetType().Name, attempt, pause.TotalSeconds);
                }
            }

            try
            {
                await Task.Delay(pause, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, LongestPause.Ticks));
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Store} schema ready after {Attempts} attempt(s)")]
    private static partial void LogReady(ILogger logger, string store, int attempts);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Store} unreachable at startup (attempt {Attempt}); retrying in {PauseSeconds} s")]
    private static partial void LogUnreachable(ILogger logger, Exception exception, string store, int attempt, double pauseSeconds);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Store} schema creation failed (attempt {Attempt}); retrying in {PauseSeconds} s")]
    private static partial void LogFailed(ILogger logger, Exception exception, string store, int attempt, double pauseSeconds);
}
