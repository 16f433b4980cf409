namespace UserStream.Ingest.Runs;

/// <summary>The counts of one run, as recorded in the ledger.</summary>
internal readonly record struct RunCounts(int Fetched, int Produced, int Failed, int WithoutKey, int FetchAttempts);

/// <summary>
/// A run's counts, updated by the run and by the producer's delivery reports (another thread).
/// <c>Produced</c> counts records the broker acknowledged, <c>Failed</c> those it did not. After
/// <see cref="CloseDispatch"/>, <see cref="Delivered"/> completes once every dispatched record has its
/// report. <see cref="Freeze"/> ends counting: records still without a report are counted failed, and
/// reports arriving later no longer change the run's result.
/// </summary>
internal sealed class RunTally
{
    private readonly Lock _lock = new();
    private readonly TaskCompletionSource _delivered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _fetched;
    private int _produced;
    private int _failed;
    private int _withoutKey;
    private int _fetchAttempts;
    private int _pending;
    private bool _dispatchClosed;
    private bool _frozen;

    /// <summary>The first delivery error seen, for the run's error text.</summary>
    public string? FirstDeliveryError { get; private set; }

    /// <summary>Completes when every dispatched record has its delivery report (after <see cref="CloseDispatch"/>).</summary>
    public Task Delivered => _delivered.Task;

    public RunCounts Snapshot()
    {
        lock (_lock)
        {
            return new(_fetched, _produced, _failed, _withoutKey, _fetchAttempts);
        }
    }

    public void PageFetched(int users, int attempts)
    {
        lock (_lock)
        {
            _fetched += users;
            _fetchAttempts += attempts;
        }
    }

    public void FetchAttemptsFailed(int attempts)
    {
        lock (_lock)
        {
            _fetchAttempts += attempts;
        }
    }

    public void WithoutKey()
    {
        lock (_lock)
        {
            _withoutKey++;
        }
    }

    /// <summary>A record was handed to the producer; its report will follow.</summary>
    public void Dispatched()
    {
        lock (_lock)
        {
            _pending++;
        }
    }

    /// <summary>The broker acknowledged a dispatched record.</summary>
    public void Acknowledged()
    {
        lock (_lock)
        {
            if (_frozen)
            {
                return;
            }

            _produced++;
            _pending--;
            SettleIfDone();
        }
    }

    /// <summary>A record was not acknowledged (<paramref name="dispatched"/>: it had been handed to the producer).</summary>
    public void NotDelivered(string error, bool dispatched)
    {
        lock (_lock)
        {
            if (_frozen)
            {
                return;
            }

            _failed++;
            FirstDeliveryError ??= error;
            if (dispatched)
            {
                _pending--;
                SettleIfDone();
            }
        }
    }

    /// <summary>No more records will be dispatched.</summary>
    public void CloseDispatch()
    {
        lock (_lock)
        {
            _dispatchClosed = true;
            SettleIfDone();
        }
    }

    /// <summary>
    /// Stops counting; records still without a report are counted failed with <paramref name="reason"/>.
    /// Returns how many that were.
    /// </summary>
    public int Freeze(string reason)
    {
        lock (_lock)
        {
            if (_frozen)
            {
                return 0;
            }

            _frozen = true;
            var unsettled = _pending;
            if (unsettled > 0)
            {
                _failed += unsettled;
                FirstDeliveryError ??= reason;
                _pending = 0;
            }

            _delivered.TrySetResult();
            return unsettled;
        }
    }

    private void SettleIfDone()
    {
        if (_dispatchClosed && _pending == 0)
        {
            _delivered.TrySetResult();
        }
    }
}
