using UserStream.Streaming.Resilience;

namespace UserStream.Streaming.Hosting;

/// <summary>
/// A stage's consume loop as a hosted service: it runs on a dedicated thread (Kafka's consume calls
/// block), and when a run fails it is logged and started again after a growing pause (1 s doubling to
/// 30 s) instead of crashing the process or spinning. Stopping the host cancels the token the run gets;
/// a run is expected to finish (drain) the batch in hand, commit it, and return. A failed run is reported to
/// the stage's <see cref="WorkerHealth"/> (Unhealthy until the next run makes progress; counted as a restart).
/// </summary>
public abstract partial class StreamingWorker(ILogger logger, WorkerHealth health) : BackgroundService
{
    /// <summary>What the loop reports about itself (progress, lag, waits).</summary>
    protected WorkerHealth Health { get; } = health;

    private static readonly TimeSpan FirstPause = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan LongestPause = TimeSpan.FromSeconds(30);

    /// <summary>Name for logs.</summary>
    protected abstract string WorkerName { get; }

    /// <summary>
    /// One run of the loop, on a dedicated thread: create the clients, loop until
    /// <paramref name="stoppingToken"/> is cancelled, drain, close the clients.
    /// </summary>
    protected abstract void Run(CancellationToken stoppingToken);

    protected sealed override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // A run that failed after running longer than the longest pause starts the doubling afresh.
        var failuresInARow = 0;
        var restart = Backoff.Exponential($"{WorkerName}-restart", FirstPause, LongestPause);
        restart.ShouldHandle = args => ValueTask.FromResult(
            args.Outcome.Exception is { } e && !(e is OperationCanceledException && stoppingToken.IsCancellationRequested));
        restart.DelayGenerator = _ => ValueTask.FromResult<TimeSpan?>(Backoff.After(failuresInARow, FirstPause, LongestPause));
        restart.OnRetry = args =>
        {
            LogRunFailed(logger, args.Outcome.Exception!, WorkerName, args.RetryDelay.TotalSeconds);
            Health.Restarting(args.Outcome.Exception!);
            return ValueTask.CompletedTask;
        };

        try
        {
            await restart.ToPipeline(TimeProvider.System).ExecuteAsync(
                async token =>
                {
                    var started = DateTime.UtcNow;
                    try
                    {
                        await Task.Factory.StartNew(
                            () => Run(token), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
                    }
                    catch (Exception) when (!token.IsCancellationRequested)
                    {
                        failuresInARow = DateTime.UtcNow - started > LongestPause ? 1 : failuresInARow + 1;
                        throw;
                    }
                },
                stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "{Worker} loop failed; restarting in {PauseSeconds} s")]
    private static partial void LogRunFailed(ILogger logger, Exception exception, string worker, double pauseSeconds);
}
