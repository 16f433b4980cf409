namespace UserStream.Ingest.Schedule;

/// <summary>The schedule's settings as stored: who set them last (<c>configuration</c> or <c>api</c>) and when.</summary>
internal sealed record ScheduleSettings(TimeSpan Interval, int Size, bool Paused, string SetBy, DateTimeOffset UpdatedAt);

/// <summary>
/// The schedule's current settings, shared by the endpoints (which change them) and the scheduler
/// (which waits on <see cref="Changed"/> to re-plan), and when the next scheduled run is due.
/// </summary>
internal sealed class ScheduleState : IDisposable
{
    private readonly Lock _lock = new();
    private ScheduleSettings? _settings;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private DateTimeOffset? _lastScheduledStart;

    /// <summary>Serializes changes through the API (read, merge, store, publish).</summary>
    public SemaphoreSlim Updates { get; } = new(1, 1);

    /// <summary>The settings, once loaded from the database (null before).</summary>
    public ScheduleSettings? Settings
    {
        get
        {
            lock (_lock)
            {
                return _settings;
            }
        }
    }

    /// <summary>When the latest scheduled run started (from the ledger at startup, then kept by the scheduler).</summary>
    public DateTimeOffset? LastScheduledStart
    {
        get
        {
            lock (_lock)
            {
                return _lastScheduledStart;
            }
        }

        set
        {
            lock (_lock)
            {
                _lastScheduledStart = value;
            }
        }
    }

    /// <summary>
    /// When the next scheduled run is due: one interval after the previous scheduled start, or
    /// <paramref name="now"/> if that has passed (or there was none); null when paused or not loaded.
    /// </summary>
    public DateTimeOffset? DueAt(DateTimeOffset now)
    {
        lock (_lock)
        {
            if (_settings is null || _settings.Paused)
            {
                return null;
            }

            return _lastScheduledStart is { } last && last + _settings.Interval > now ? last + _settings.Interval : now;
        }
    }

    /// <summary>Completes at the next change of the settings.</summary>
    public Task Changed
    {
        get
        {
            lock (_lock)
            {
                return _changed.Task;
            }
        }
    }

    public void Set(ScheduleSettings settings)
    {
        TaskCompletionSource changed;
        lock (_lock)
        {
            _settings = settings;
            changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        changed.TrySetResult();
    }

    public void Dispose() => Updates.Dispose();
}
