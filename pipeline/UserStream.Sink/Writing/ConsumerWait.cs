namespace UserStream.Sink.Writing;

/// <summary>
/// Blocks the consumer's thread until <paramref name="work"/> (a store write, dead-letter sends) completes,
/// keeping the consumer polled (group membership, revocations) with fetching paused once the work takes
/// longer than a moment. It does not observe the work's outcome: the caller does.
/// </summary>
public delegate void ConsumerWait(Task work, CancellationToken cancellationToken);
