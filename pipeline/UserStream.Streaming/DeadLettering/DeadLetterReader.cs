namespace UserStream.Streaming.DeadLettering;

/// <summary>
/// Reads a dead-letter topic for people, newest first: an assigned consumer (no group, nothing committed) reads
/// each partition backwards from its end in chunks of <see cref="DeadLetterOptions.ReadChunkSize"/>, looking at
/// no more than <see cref="DeadLetterOptions.ReadMaxRecords"/> records for no longer than
/// <see cref="DeadLetterOptions.ReadTimeout"/>, and says whether it saw everything it needed.
/// Blocking (librdkafka): call it off the request thread.
/// </summary>
public sealed class DeadLetterReader(KafkaClientFactory clients, string topic, DeadLetterOptions options, TimeProvider time)
{
    public string Topic => topic;

    /// <summary>The newest <paramref name="limit"/> dead letters matching <paramref name="filter"/>, newest first.</summary>
    public DeadLetterPage List(DeadLetterFilter filter, int limit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        var found = new List<DeadLetter>();
        var inPartition = 0;
        var (scanned, complete) = Scan(
            startPartition: () => inPartition = 0,
            visit: letter =>
            {
                if (!filter.Matches(letter))
                {
                    return true;
                }

                found.Add(letter);
                // A partition's older dead letters cannot be among the newest once it gave as many as asked for.
                return ++inPartition < limit;
            },
            cancellationToken);

        var newest = found
            .OrderByDescending(l => l.FailedAt ?? DateTimeOffset.MinValue)
            .ThenByDescending(l => l.Offset)
            .Take(limit)
            .ToList();
        return new DeadLetterPage(newest, scanned, complete);
    }

    /// <summary>Counts of the dead letters by stage and code.</summary>
    public DeadLetterSummary Summarize(CancellationToken cancellationToken)
    {
        var counts = new Dictionary<(string? Stage, string? Code), long>();
        var (scanned, complete) = Scan(
            startPartition: () => { },
            visit: letter =>
            {
                var key = (letter.Stage, letter.Code);
                counts[key] = counts.GetValueOrDefault(key) + 1;
                return true;
            },
            cancellationToken);

        var ordered = counts
            .Select(c => new DeadLetterCount(c.Key.Stage, c.Key.Code, c.Value))
            .OrderBy(c => c.Stage, StringComparer.Ordinal)
            .ThenBy(c => c.Code, StringComparer.Ordinal)
            .ToList();
        return new DeadLetterSummary(ordered.Sum(c => c.Count), ordered, scanned, complete);
    }

    /// <summary>
    /// Visits every partition's records newest first until <paramref name="visit"/> returns false (that
    /// partition is done) or a bound is reached. Complete when no bound cut the scan short.
    /// </summary>
    private (long Scanned, bool Complete) Scan(Action startPartition, Func<DeadLetter, bool> visit, CancellationToken cancellationToken)
    {
        var deadline = time.GetUtcNow() + options.ReadTimeout;
        using var consumer = clients.CreateConsumer(PartitionRange.ReaderGroup, KafkaClientShapes.AssignedReader);
        try
        {
            long scanned = 0;
            var progress = new RangeProgress();
            foreach (var partition in PartitionRange.PartitionsOf(consumer, topic, options.ReadTimeout))
            {
                startPartition();
                var watermarks = consumer.QueryWatermarkOffsets(partition, Remaining(deadline));
                var end = watermarks.High.Value;
                var low = watermarks.Low.Value;
                var partitionDone = false;
                while (end > low && !partitionDone)
                {
                    if (scanned >= options.ReadMaxRecords)
                    {
                        return (scanned, false);
                    }

                    var chunk = (int)Math.Min(options.ReadChunkSize, options.ReadMaxRecords - scanned);
                    var start = Math.Max(low, end - chunk);
                    var records = PartitionRange.Read(consumer, partition, start, end, progress, time, options.ReadTimeout, deadline, cancellationToken).ToList();
                    for (var i = records.Count - 1; i >= 0 && !partitionDone; i--)
                    {
                        scanned++;
                        partitionDone = !visit(DeadLetter.From(records[i], options.PreviewBytes));
                    }

                    if (progress.TimedOut)
                    {
                        return (scanned, false);
                    }

                    end = start;
                }
            }

            return (scanned, true);
        }
        finally
        {
            consumer.Close();
        }
    }

    private TimeSpan Remaining(DateTimeOffset deadline)
    {
        var remaining = deadline - time.GetUtcNow();
        return remaining > TimeSpan.FromMilliseconds(100) ? remaining : TimeSpan.FromMilliseconds(100);
    }
}
