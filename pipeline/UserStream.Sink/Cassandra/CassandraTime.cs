namespace UserStream.Sink.Cassandra;

/// <summary>
/// Time as the Cassandra store uses it: write timestamps (last-write-wins by ingestion time), the day
/// buckets of the "most recent" index, and the millisecond precision of CQL <c>timestamp</c> columns.
/// </summary>
public static class CassandraTime
{
    /// <summary>
    /// The write timestamp (<c>USING TIMESTAMP</c>, microseconds since the Unix epoch) of a user ingested at
    /// <paramref name="ingestedAt"/>. Cassandra keeps, cell by cell, the value with the largest write
    /// timestamp: a redelivered record writes the same timestamp (a no-op) and an older version can never
    /// replace a newer one, whatever order they arrive in.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">When <paramref name="ingestedAt"/> is before the Unix epoch.</exception>
    public static long WriteTimestamp(DateTimeOffset ingestedAt)
    {
        var ticks = ingestedAt.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
        ArgumentOutOfRangeException.ThrowIfNegative(ticks, nameof(ingestedAt));
        return ticks / (TimeSpan.TicksPerMillisecond / 1000);
    }

    /// <summary>The partition of the "most recent" index a user ingested at <paramref name="ingestedAt"/> goes to: its UTC date, <c>yyyy-MM-dd</c>.</summary>
    public static string DayBucket(DateTimeOffset ingestedAt) =>
        ingestedAt.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>The day buckets from <paramref name="now"/>'s back <paramref name="days"/> days, newest first.</summary>
    public static IEnumerable<string> DayBucketsBackFrom(DateTimeOffset now, int days)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(days);
        for (var i = 0; i < days; i++)
        {
            yield return DayBucket(now.AddDays(-i));
        }
    }

    /// <summary><paramref name="value"/> as a CQL <c>timestamp</c> column stores it: UTC, whole milliseconds.</summary>
    public static DateTimeOffset ToColumnPrecision(DateTimeOffset value)
    {
        var utcTicks = value.UtcTicks;
        return new DateTimeOffset(utcTicks - (utcTicks % TimeSpan.TicksPerMillisecond), TimeSpan.Zero);
    }
}
