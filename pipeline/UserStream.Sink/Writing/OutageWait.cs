namespace UserStream.Sink.Writing;

/// <summary>
/// Waits <paramref name="delay"/> between store attempts while keeping the consumer alive (paused, still
/// polled so that the group does not evict it). Throws <see cref="OperationCanceledException"/> when
/// <paramref name="cancellationToken"/> is cancelled.
/// </summary>
public delegate void OutageWait(TimeSpan delay, CancellationToken cancellationToken);
