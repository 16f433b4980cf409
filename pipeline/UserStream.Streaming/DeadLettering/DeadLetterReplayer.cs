using UserStream.Streaming.Tracing;

namespace UserStream.Streaming.DeadLettering;

/// <summary>The value of a replay marker: when the dead letter was replayed, and to which topic.</summary>
internal sealed record ReplayMarker(DateTimeOffset ReplayedAt, string To);

/// <summary>What a replay is asked to send: the dead letters matching <see cref="Filter"/>, oldest first, at most <see cref="Max"/>.</summary>
public sealed record ReplayRequest(DeadLetterFilter Filter, long Max = long.MaxValue);

/// <summary>
/// A replay's answer. <see cref="Selected"/>: dead letters matching the filter; <see cref="Sent"/>: replayed now;
/// <see cref="Skipped"/>: replayed before (never sent twice); <see cref="Remaining"/>: not sent because of max.
/// </summary>
public sealed record ReplayResult(long Selected, long Sent, long Skipped, long Remaining);

/// <summary>A replay stopped by a failure; what it committed before stays committed (<see cref="Progress"/>).</summary>
public sealed class DeadLetterReplayException(string message, ReplayResult progress, bool fenced, Exception inner)
    : Exception(message, inner)
{
    public ReplayResult Progress { get; } = progress;

    /// <summary>Another replayer (another instance of the stage) started and took over.</summary>
    public bool Fenced { get; } = fenced;
}

/// <summary>
/// Sends dead letters back to the topic they came from (<c>dlq-source-topic</c>), exactly once. Each transaction of
/// the replayer's one transactional producer (<see cref="DeadLetterOptions.ReplayTransactionalId"/>) holds up to
/// <see cref="DeadLetterOptions.ReplayBatchSize"/> replayed records and, for each, a marker keyed by the dead
/// letter's position in <see cref="DeadLetterOptions.ReplayTopic"/>. A replay first initialises the producer,
/// which fences any other replayer with the same id and aborts a transaction a crashed one left open, then reads
/// the markers read-committed and skips every dead letter they name. So a crash mid-replay loses nothing and a
/// replay asked again sends nothing twice, whatever codes earlier replays selected. One replay at a time per process.
/// </summary>
/// <remarks>
/// A replayed record keeps its key and value byte for byte and its original headers, loses the dead letter's
/// <c>dlq-*</c> headers, and gains <see cref="ReplayHeaders.ReplayOf"/> and <see cref="ReplayHeaders.ReplayCount"/>
/// (one more than the dead letter carried). Its trace starts at a <c>replay {topic}</c> span linked to the dead
/// letter's trace. Nothing replays on its own: only <see cref="TryReplay"/> sends.
/// </remarks>
public sealed partial class DeadLetterReplayer(
    KafkaClientFactory clients, string deadLetterTopic, DeadLetterOptions options, StageTelemetry telemetry, ILogger logger, TimeProvider time)
    : IDisposable
{
    public const string CodeTag = "code";

    /// <summary>The replayed counter's name after the stage's prefix: <c>userstream.&lt;stage&gt;.dead_letters.replayed</c>.</summary>
    public const string ReplayedMetricSuffix = "dead_letters.replayed";

    private readonly Counter<long> _replayed = telemetry.Meter.CreateCounter<long>(
        MetricNameOf(telemetry), "{record}", "Dead letters replayed to their source topic (committed), by code");

    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>The counter of replayed dead letters (tag <see cref="CodeTag"/>), e.g. <c>userstream.process.dead_letters.replayed</c>.</summary>
    public string ReplayedMetricName { get; } = MetricNameOf(telemetry);

    /// <summary>
    /// Runs a replay, or returns null at once when one is running in this process. Blocking (librdkafka): call it
    /// off the request thread. Throws <see cref="DeadLetterReplayException"/> when Kafka fails mid-way.
    /// </summary>
    public ReplayResult? TryReplay(ReplayRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!_gate.Wait(0, CancellationToken.None))
        {
            return null;
        }

        try
        {
            // Each replayed record starts its own trace: nothing of the caller's context is its parent.
            Activity.Current = null;
            return Replay(request, cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    private ReplayResult Replay(ReplayRequest request, CancellationToken cancellationToken)
    {
        var tally = new Tally();
        using var producer = clients.CreateProducer(KafkaClientShapes.Transactional(options.ReplayTransactionalId, options.TransactionTimeout));
        using var consumer = clients.CreateConsumer(PartitionRange.ReaderGroup, KafkaClientShapes.AssignedReader);
        var batch = new List<(ConsumeResult<string, byte[]> Record, DeadLetter Letter)>();
        try
        {
            producer.InitTransactions(options.OperationTimeout);
            var replayed = ReadMarkers(consumer, cancellationToken);
            LogStarted(logger, options.ReplayTransactionalId, request.Filter, replayed.Count);

            // Every partition's end as it is before anything is sent: dead letters that arrive during the replay (its
            // own records rejected again among them, in any partition) wait for the next replay asked for, so a
            // replay never replays its own rejects.
            var ranges = PartitionRange.PartitionsOf(consumer, deadLetterTopic, options.OperationTimeout)
                .Select(partition => (Partition: partition, Watermarks: consumer.QueryWatermarkOffsets(partition, options.OperationTimeout)))
                .ToList();
            var progress = new RangeProgress();
            foreach (var (partition, watermarks) in ranges)
            {
                var records = PartitionRange.Read(
                    consumer, partition, watermarks.Low.Value, watermarks.High.Value, progress, time, options.OperationTimeout, null, cancellationToken);
                foreach (var record in records)
                {
                    var letter = DeadLetter.From(record, 0);
                    // Never back into the dead letters or the markers, whatever a header claims.
                    if (letter.SourceTopic is null || letter.SourceTopic == deadLetterTopic || letter.SourceTopic == options.ReplayTopic
                        || !request.Filter.Matches(letter))
                    {
                        continue;
                    }

                    tally.Selected++;
                    if (replayed.Contains(letter.Id))
                    {
                        tally.Skipped++;
                    }
                    else if (tally.Sent + batch.Count >= request.Max)
                    {
                        tally.Remaining++;
                    }
                    else
                    {
                        batch.Add((record, letter));
                        if (batch.Count >= options.ReplayBatchSize)
                        {
                            Commit(producer, batch, tally, cancellationToken);
                        }
                    }
                }
            }

            Commit(producer, batch, tally, cancellationToken);
            var result = tally.Result();
            LogFinished(logger, result.Selected, result.Sent, result.Skipped, result.Remaining);
            return result;
        }
        catch (Exception e) when (e is KafkaException or TimeoutException)
        {
            var fenced = e is KafkaException { Error.Code: ErrorCode.Local_Fenced or ErrorCode.ProducerFenced or ErrorCode.InvalidProducerEpoch };
            var progress = tally.Result(uncounted: batch.Count);
            LogFailed(logger, e, progress.Sent, fenced);
            throw new DeadLetterReplayException(
                fenced
                    ? "Another replay (another instance of the stage) took over; this one stopped."
                    : $"The replay stopped: {(e is KafkaException k ? k.Error.Reason : e.Message)}",
                progress, fenced, e);
        }
        finally
        {
            consumer.Close();
        }
    }

    /// <summary>The positions of every dead letter replayed so far (read committed, after fencing any other replayer).</summary>
    private HashSet<string> ReadMarkers(IConsumer<string, byte[]> consumer, CancellationToken cancellationToken)
    {
        var replayed = new HashSet<string>(StringComparer.Ordinal);
        var progress = new RangeProgress();
        foreach (var partition in PartitionRange.PartitionsOf(consumer, options.ReplayTopic, options.OperationTimeout))
        {
            var watermarks = consumer.QueryWatermarkOffsets(partition, options.OperationTimeout);
            foreach (var marker in PartitionRange.Read(
                consumer, partition, watermarks.Low.Value, watermarks.High.Value, progress, time, options.OperationTimeout, null, cancellationToken))
            {
                if (marker.Message.Key is { } key && marker.Message.Value is not null)
                {
                    replayed.Add(key);
                }
            }
        }

        return replayed;
    }

    /// <summary>One transaction: every record of <paramref name="batch"/> to its source topic, each with its marker.</summary>
    private void Commit(
        IProducer<string, byte[]> producer, List<(ConsumeResult<string, byte[]> Record, DeadLetter Letter)> batch, Tally tally, CancellationToken cancellationToken)
    {
        if (batch.Count == 0)
        {
            return;
        }

        cancellationToken.ThrowIfCancellationRequested();
        var spans = new List<Activity>(batch.Count);
        var committed = false;
        producer.BeginTransaction();
        try
        {
            var now = time.GetUtcNow();
            foreach (var (record, letter) in batch)
            {
                var message = Replayed(record, letter.Id);
                if (StartSpan(record, letter) is { } span)
                {
                    spans.Add(span);
                    KafkaTracing.Inject(span, message.Headers);
                }

                producer.Produce(letter.SourceTopic!, message);
                producer.Produce(options.ReplayTopic, new Message<string, byte[]>
                {
                    Key = letter.Id,
                    Value = JsonSerializer.SerializeToUtf8Bytes(new ReplayMarker(now, letter.SourceTopic!), JsonSerializerOptions.Web),
                });
            }

            producer.CommitTransaction(options.OperationTimeout);
            committed = true;
        }
        catch (Exception e) when (e is KafkaException or OperationCanceledException)
        {
            TryAbort(producer);
            foreach (var span in spans)
            {
                span.SetStatus(ActivityStatusCode.Error, "the replay transaction was not committed");
            }

            throw;
        }
        finally
        {
            foreach (var span in spans)
            {
                span.Dispose();
            }
        }

        if (committed)
        {
            foreach (var (_, letter) in batch)
            {
                _replayed.Add(1, new KeyValuePair<string, object?>(CodeTag, letter.Code));
            }

            tally.Sent += batch.Count;
            batch.Clear();
        }
    }

    /// <summary>The record as it was before it was dead-lettered, saying which dead letter it replays and how often it was replayed.</summary>
    private static Message<string, byte[]> Replayed(ConsumeResult<string, byte[]> record, string id)
    {
        var headers = new Headers();
        foreach (var header in record.Message.Headers ?? [])
        {
            if (!header.Key.StartsWith(ReplayHeaders.DeadLetterPrefix, StringComparison.Ordinal)
                && header.Key is not (ReplayHeaders.ReplayOf or ReplayHeaders.ReplayCount or PipelineHeaders.TraceParent or PipelineHeaders.TraceState))
            {
                headers.Add(header.Key, header.GetValueBytes());
            }
        }

        headers.SetString(ReplayHeaders.ReplayOf, id)
            .SetString(ReplayHeaders.ReplayCount, (DeadLetter.ReplayCountOf(record.Message.Headers) + 1).ToString(CultureInfo.InvariantCulture));
        return new Message<string, byte[]> { Key = record.Message.Key, Value = record.Message.Value, Headers = headers };
    }

    /// <summary>A root span (the replayed record's new trace) linked to the dead letter's trace.</summary>
    private Activity? StartSpan(ConsumeResult<string, byte[]> record, DeadLetter letter)
    {
        var deadLetterContext = KafkaTracing.Extract(record.Message.Headers);
        ActivityLink[]? links = deadLetterContext == default ? null : [new ActivityLink(deadLetterContext)];
        var span = telemetry.Source.StartActivity($"replay {deadLetterTopic}", ActivityKind.Producer, parentContext: default, links: links);
        Activity.Current = null;
        if (span is { IsAllDataRequested: true })
        {
            span.SetTag("messaging.system", "kafka");
            span.SetTag("messaging.operation.type", "send");
            span.SetTag("messaging.destination.name", letter.SourceTopic);
            span.SetTag("messaging.kafka.message.key", letter.Key);
            span.SetTag("userstream.dead_letter.id", letter.Id);
            span.SetTag("userstream.dead_letter.code", letter.Code);
        }

        return span;
    }

    private void TryAbort(IProducer<string, byte[]> producer)
    {
        try
        {
            producer.AbortTransaction(options.OperationTimeout);
        }
        catch (KafkaException e)
        {
            // A fenced or fatally failed producer cannot abort; the broker (or the next replayer) aborts it.
            LogAbortFailed(logger, e.Error.Reason);
        }
    }

    private static string MetricNameOf(StageTelemetry telemetry) => $"{telemetry.Name.ToLowerInvariant()}.{ReplayedMetricSuffix}";

    public void Dispose() => _gate.Dispose();

    private sealed class Tally
    {
        public long Selected { get; set; }
        public long Sent { get; set; }
        public long Skipped { get; set; }
        public long Remaining { get; set; }

        /// <summary>The counts; <paramref name="uncounted"/> selected records whose transaction did not commit count as remaining.</summary>
        public ReplayResult Result(int uncounted = 0) => new(Selected, Sent, Skipped, Remaining + uncounted);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{TransactionalId}: replaying dead letters {Filter}; {Replayed} replayed before")]
    private static partial void LogStarted(ILogger logger, string transactionalId, DeadLetterFilter filter, int replayed);

    [LoggerMessage(Level = LogLevel.Information, Message = "Replay done: {Selected} selected, {Sent} sent, {Skipped} skipped (replayed before), {Remaining} left (max)")]
    private static partial void LogFinished(ILogger logger, long selected, long sent, long skipped, long remaining);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Replay stopped after {Sent} sent (fenced by another replayer: {Fenced})")]
    private static partial void LogFailed(ILogger logger, Exception exception, long sent, bool fenced);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not abort the replay transaction: {Reason}")]
    private static partial void LogAbortFailed(ILogger logger, string reason);
}
