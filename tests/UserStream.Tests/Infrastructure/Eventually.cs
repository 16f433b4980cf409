namespace UserStream.Tests.Infrastructure;

/// <summary>Polling for a state that the system under test reaches in its own time.</summary>
public static class Eventually
{
    /// <summary>
    /// Probes every 100 ms (or <paramref name="interval"/>) until <paramref name="condition"/> holds for the value
    /// (or the time is up, 30 s unless told) and returns the last value: assert on it rather than on the waiting.
    /// </summary>
    public static async Task<T> Async<T>(Func<Task<T>> probe, Func<T, bool> condition, TimeSpan? timeout = null, TimeSpan? interval = null)
    {
        ArgumentNullException.ThrowIfNull(probe);
        ArgumentNullException.ThrowIfNull(condition);
        var until = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            var value = await probe();
            if (condition(value) || DateTime.UtcNow > until)
            {
                return value;
            }

            await Task.Delay(interval ?? TimeSpan.FromMilliseconds(100), TestContext.Current.CancellationToken);
        }
    }

    /// <summary>Whether <paramref name="condition"/> came to hold within the time (30 s unless told), probed as <see cref="Async{T}"/> does.</summary>
    public static Task<bool> TrueAsync(Func<bool> condition, TimeSpan? timeout = null, TimeSpan? interval = null) =>
        Async(() => Task.FromResult(condition()), holds => holds, timeout, interval);
}
