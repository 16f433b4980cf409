namespace UserStream.Streaming.Kafka;

/// <summary>
/// When a micro-batch is closed: whichever comes first of its count, bytes or time limit, or a pause in the
/// stream (no next record within <see cref="IdleWait"/> of the last one). At low load a record goes through
/// within the idle wait; at high load the consumer's prefetched records fill the batch up to its limits.
/// </summary>
public sealed class BatchLimits
{
    /// <summary>Most records in one batch.</summary>
    [Range(1, 100_000)]
    public int MaxCount { get; set; } = 500;

    /// <summary>Most value bytes in one batch (a single larger record still forms a batch of one).</summary>
    [Range(1, 1L << 30)]
    public long MaxBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>Longest a batch stays open after its first record (the upper bound), and longest to wait for a first record.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:10:00")]
    public TimeSpan MaxWait { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// Longest a batch that has records waits for the next one: 0 closes it as soon as no further record is
    /// immediately available (the stream paused). A value of <see cref="MaxWait"/> or more keeps every batch
    /// open for its whole <see cref="MaxWait"/>, the behaviour before this setting existed. The default, 2 ms,
    /// was chosen by measurement (<c>-- pipeline</c>, docs/performance.md): a burst of records reaches the
    /// consumer as several fetch responses a millisecond or so apart (one per broker); with 0 it is split into
    /// several transactions and store writes, with 2 ms it is one, for a lower p99 at the same p50.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan IdleWait { get; set; } = TimeSpan.FromMilliseconds(2);
}
