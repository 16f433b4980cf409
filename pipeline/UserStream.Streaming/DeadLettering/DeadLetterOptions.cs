namespace UserStream.Streaming.DeadLettering;

/// <summary>
/// How a stage reads its dead-letter topic for people (bounded) and replays dead letters (exactly once).
/// Bound as a stage's <c>DeadLetters</c> subsection (the processor's: <c>Process:DeadLetters</c>).
/// </summary>
public sealed class DeadLetterOptions
{
    /// <summary>Compacted topic of replay markers, written in the same transaction as each replayed record.</summary>
    [Required(AllowEmptyStrings = false)]
    public string ReplayTopic { get; set; } = Topics.DeadLetterReplays;

    /// <summary>
    /// Transactional id of the replayer: one fixed id for every instance of the stage, so that a replay started on
    /// one replica fences any other replica's replay (only one runs at a time) and aborts the transaction a
    /// crashed replay left open.
    /// </summary>
    [Required(AllowEmptyStrings = false)]
    [StringLength(200)]
    public string ReplayTransactionalId { get; set; } = "userstream-dead-letter-replayer";

    /// <summary>Dead letters replayed per transaction (each with its marker).</summary>
    [Range(1, 1_000)]
    public int ReplayBatchSize { get; set; } = 100;

    /// <summary>The broker aborts a replay transaction left open longer than this (transaction.timeout.ms).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:15:00")]
    public TimeSpan TransactionTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Longest one step of a replay may take: initialising the transactional producer, committing or aborting
    /// a transaction, or waiting for the next record while reading the markers or the dead letters.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan OperationTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Most dead letters one read (<c>GET /dead-letters</c>, <c>/summary</c>) looks at.</summary>
    [Range(1, 1_000_000)]
    public int ReadMaxRecords { get; set; } = 10_000;

    /// <summary>Longest one read may take; it answers with what it saw by then (and says it is incomplete).</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00")]
    public TimeSpan ReadTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Records fetched per step when reading a partition backwards from its end.</summary>
    [Range(1, 100_000)]
    public int ReadChunkSize { get; set; } = 500;

    /// <summary>Most bytes of a dead letter's value shown as its preview (UTF-8, invalid bytes replaced).</summary>
    [Range(0, 64 * 1024)]
    public int PreviewBytes { get; set; } = 256;
}
