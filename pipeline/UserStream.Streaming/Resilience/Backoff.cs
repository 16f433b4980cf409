using Polly;
using Polly.Retry;

namespace UserStream.Streaming.Resilience;

/// <summary>
/// The pipeline's one home for retries and backoff, on Polly.Core: every stage builds its retries from these
/// strategies and keeps only its domain decisions (what to handle, what to do on each retry). A loop that paces
/// its own tries rather than retrying one call (the processor's redo after an aborted transaction) takes its pause
/// from <see cref="After"/>, the same doubling.
/// </summary>
public static class Backoff
{
    /// <summary>
    /// A retry named <paramref name="name"/> whose pause starts at <paramref name="first"/> and doubles up to
    /// <paramref name="longest"/> (no jitter unless asked), forever unless <paramref name="maxRetries"/> says otherwise.
    /// It handles every exception until the caller sets <see cref="RetryStrategyOptions.ShouldHandle"/>.
    /// </summary>
    public static RetryStrategyOptions Exponential(
        string name, TimeSpan first, TimeSpan longest, int maxRetries = int.MaxValue, bool jitter = false) =>
        Retry(name, DelayBackoffType.Exponential, first, longest, maxRetries, jitter);

    /// <summary>
    /// A retry named <paramref name="name"/> whose pause grows by <paramref name="step"/> each time up to
    /// <paramref name="longest"/>, forever unless <paramref name="maxRetries"/> says otherwise (the caller's
    /// <see cref="RetryStrategyOptions.ShouldHandle"/> may also end it, e.g. at a deadline).
    /// </summary>
    public static RetryStrategyOptions Linear(string name, TimeSpan step, TimeSpan longest, int maxRetries = int.MaxValue) =>
        Retry(name, DelayBackoffType.Linear, step, longest, maxRetries, jitter: false);

    /// <summary>
    /// A retry named <paramref name="name"/> for a call that meets librdkafka's full local queue
    /// (<see cref="ErrorCode.Local_QueueFull"/>): the queue drains as the brokers acknowledge, so the call is tried again
    /// every <paramref name="pause"/>, for as long as the caller's token allows.
    /// </summary>
    public static RetryStrategyOptions WhileLocalQueueFull(string name, TimeSpan pause)
    {
        var retry = Retry(name, DelayBackoffType.Constant, pause, longest: null, int.MaxValue, jitter: false);
        retry.ShouldHandle = new PredicateBuilder().Handle<KafkaException>(e => e.Error.Code == ErrorCode.Local_QueueFull);
        return retry;
    }

    private static RetryStrategyOptions Retry(
        string name, DelayBackoffType type, TimeSpan delay, TimeSpan? longest, int maxRetries, bool jitter) => new()
        {
            Name = name,
            MaxRetryAttempts = maxRetries,
            BackoffType = type,
            UseJitter = jitter,
            Delay = delay,
            MaxDelay = longest,
        };

    /// <summary>The retry as a pipeline of its own, timed by <paramref name="time"/>.</summary>
    public static ResiliencePipeline ToPipeline(this RetryStrategyOptions retry, TimeProvider time) =>
        new ResiliencePipelineBuilder { TimeProvider = time }.AddRetry(retry).Build();

    /// <summary>
    /// The pause after <paramref name="failuresInARow"/> consecutive failures (1: <paramref name="first"/>), doubling
    /// up to <paramref name="longest"/> — the pause <see cref="Exponential"/> waits before the same retry.
    /// </summary>
    public static TimeSpan After(int failuresInARow, TimeSpan first, TimeSpan longest)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(failuresInARow);
        var doublings = Math.Min(failuresInARow - 1, 62);
        var ticks = first.Ticks * Math.Pow(2, doublings);
        return ticks >= longest.Ticks ? longest : TimeSpan.FromTicks((long)ticks);
    }
}
