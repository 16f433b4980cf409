namespace UserStream.Testing;

/// <summary>Polling for a state that the system under test reaches in its own time (tests, benchmarks and AppHost tests).</summary>
public static class Eventually
{
    /// <summary>How long a poll waits unless told: 30 s.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    /// <summary>The interval for polls of a whole running application (HTTP calls, topic reads): once a second.</summary>
    public static readonly TimeSpan WholeAppInterval = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Probes every 100 ms (or <paramref name="interval"/>) until <paramref name="condition"/> holds for the value
    /// (or the time is up, <see cref="DefaultTimeout"/> unless told) and returns the last value: assert on it
    /// rather than on the waiting.
    /// </summary>
    public static async Task<T> Async<T>(
        Func<CancellationToken, Task<T>> probe,
        Func<T, bool> condition,
        TimeSpan? timeout = null,
        TimeSpan? interval = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(probe);
        ArgumentNullException.ThrowIfNull(condition);
        var until = DateTime.UtcNow + (timeout ?? DefaultTimeout);
        while (true)
        {
            var value = await probe(cancellationToken);
            if (condition(value) || DateTime.UtcNow > until)
            {
                return value;
            }

            await Task.Delay(interval ?? TimeSpan.FromMilliseconds(100), cancellationToken);
        }
    }

    /// <inheritdoc cref="Async{T}(Func{CancellationToken, Task{T}}, Func{T, bool}, TimeSpan?, TimeSpan?, CancellationToken)"/>
    public static Task<T> Async<T>(
        Func<Task<T>> probe,
        Func<T, bool> condition,
        TimeSpan? timeout = null,
        TimeSpan? interval = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(probe);
        return Async(_ => probe(), condition, timeout, interval, cancellationToken);
    }

    /// <summary>Whether <paramref name="condition"/> came to hold within the time (<see cref="DefaultTimeout"/> unless told), probed as <see cref="Async{T}(Func{Task{T}}, Func{T, bool}, TimeSpan?, TimeSpan?, CancellationToken)"/> does.</summary>
    public static Task<bool> TrueAsync(
        Func<bool> condition, TimeSpan? timeout = null, TimeSpan? interval = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(condition);
        return Async(() => Task.FromResult(condition()), holds => holds, timeout, interval, cancellationToken);
    }
}
