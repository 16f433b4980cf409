using System.ComponentModel.DataAnnotations;

namespace UserStream.Streaming.Kafka;

/// <summary>When a micro-batch is closed: whichever of count, bytes or time is reached first.</summary>
public sealed class BatchLimits
{
    /// <summary>Most records in one batch.</summary>
    [Range(1, 100_000)]
    public int MaxCount { get; set; } = 500;

    /// <summary>Most value bytes in one batch (a single larger record still forms a batch of one).</summary>
    [Range(1, 1L << 30)]
    public long MaxBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>Longest a batch stays open after its first record.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:10:00")]
    public TimeSpan MaxWait { get; set; } = TimeSpan.FromMilliseconds(200);
}
