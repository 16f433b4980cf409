namespace UserStream.AppHost.Tests.Infrastructure;

/// <summary>Polls until a condition on a value holds: the pipeline is asynchronous end to end.</summary>
internal static class Eventually
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The first value of <paramref name="read"/> that satisfies <paramref name="until"/>, or the last value
    /// read when <paramref name="patience"/> runs out (the caller's assertion then shows what was seen). Reads
    /// every <paramref name="interval"/> (1 s unless told).
    /// </summary>
    public static async Task<T> ValueAsync<T>(
        Func<CancellationToken, Task<T>> read, Func<T, bool> until, TimeSpan patience, CancellationToken cancellationToken, TimeSpan? interval = null)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(patience);
        var value = await read(cancellationToken);
        while (!until(value) && !deadline.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(interval ?? Interval, deadline.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                break;
            }

            value = await read(cancellationToken);
        }

        return value;
    }
}
