namespace UserStream.Sink.Consuming;

/// <summary>
/// One run of the sink's consume loop on the worker's thread: gather a micro-batch, decode it (undecodable
/// values are dead-lettered), write it through <see cref="BatchWriter"/>, wait until the broker acknowledged
/// every dead letter (<see cref="DeadLetterProducer.SendAllAsync"/>, which retries), then commit the batch's
/// offsets. While a write or the dead letters take longer than a moment (store down, dead-letter topic
/// refusing writes): fetching paused, the consumer still polled, nothing committed. Progress and lag go to
/// the worker's <see cref="WorkerHealth"/>. Revoked partitions are dropped from the batch in hand. On stop, the batch in
/// hand is finished and committed before the consumer closes.
/// </summary>
public sealed partial class SinkLoop : IDisposable
{
    private static readonly TimeSpan LagReportInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan PollSlice = TimeSpan.FromMilliseconds(100);

    private readonly SinkOptions _options;
    private readonly BatchWriter _writer;
    private readonly DeadLetterProducer _deadLetters;
    private readonly SinkTracing _tracing;
    private readonly SinkMetrics _metrics;
    private readonly WorkerHealth _health;
    private readonly ILogger _logger;
    private readonly IConsumer<string, byte[]> _consumer;
    private readonly List<ConsumeResult<string, byte[]>> _carried = [];
    private readonly HashSet<TopicPartition> _revokedWhileGathering = [];
    private InFlightBatch? _inHand;
    private bool _paused;
    private long _lastLagReport;

    /// <summary>Longest a graceful stop waits for the group to take the partitions back.</summary>
    private static readonly TimeSpan LeaveTimeout = TimeSpan.FromSeconds(5);

    private static Action<ConsumerConfig> Shape(SinkOptions options) => config =>
    {
        KafkaClientShapes.ReadCommittedManualCommit(config);
        if (options.InstanceId.Length > 0)
        {
            KafkaClientShapes.StaticMember("sink-" + options.InstanceId)(config);
        }
    };

    public SinkLoop(
        KafkaClientFactory clients, SinkOptions options, BatchWriter writer, DeadLetterProducer deadLetters,
        SinkTracing tracing, SinkMetrics metrics, WorkerHealth health, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(clients);
        _health = health;
        _options = options;
        _writer = writer;
        _deadLetters = deadLetters;
        _tracing = tracing;
        _metrics = metrics;
        _logger = logger;
        _consumer = clients.CreateConsumer(options.GroupId, Shape(options), builder => builder
            .SetPartitionsRevokedHandler((_, partitions) => OnRevoked([.. partitions.Select(p => p.TopicPartition)]))
            .SetPartitionsLostHandler((_, partitions) => OnRevoked([.. partitions.Select(p => p.TopicPartition)]))
            .SetErrorHandler((_, error) => LogKafkaError(_logger, error.Code, error.Reason, error.IsFatal)));
    }

    /// <summary>
    /// Consumes until <paramref name="stoppingToken"/> is cancelled, then finishes the batch in hand.
    /// <paramref name="drainToken"/> aborts that last batch (uncommitted) when draining takes too long.
    /// </summary>
    public void Run(CancellationToken stoppingToken, CancellationToken drainToken)
    {
        _consumer.Subscribe(_options.Topic);
        LogSubscribed(_logger, _options.Topic, _options.GroupId);
        while (!stoppingToken.IsCancellationRequested)
        {
            var batch = NextBatch(stoppingToken);
            if (batch.Count > 0)
            {
                Handle(batch, drainToken);
            }

            ReportLag(force: false);
        }
    }

    private MessageBatch NextBatch(CancellationToken stoppingToken)
    {
        if (_carried.Count > 0)
        {
            // Records that arrived from newly assigned partitions while fetching was paused.
            var take = _carried.Take(_options.Batch.MaxCount).ToList();
            _carried.RemoveRange(0, take.Count);
            return new MessageBatch(take, take.Sum(r => (long)(r.Message.Value?.Length ?? 0)));
        }

        _revokedWhileGathering.Clear();
        var batch = _consumer.ConsumeBatch(_options.Batch, stoppingToken);
        if (_revokedWhileGathering.Count == 0 || batch.Count == 0)
        {
            return batch;
        }

        // Records of partitions taken away while gathering belong to their new owner. A partition given back
        // to us restarts from its committed offset, so every record of it in this batch is ours to write.
        var assignment = _consumer.Assignment;
        return batch.Without([.. _revokedWhileGathering.Where(p => !assignment.Contains(p))]);
    }

    private void Handle(MessageBatch batch, CancellationToken drainToken)
    {
        _metrics.BatchConsumed(batch.Count);
        var records = batch.Select(r => new SinkRecord(r, _tracing.StartProcess(r, _options.GroupId))).ToList();
        _inHand = new InFlightBatch(batch, records);
        try
        {
            foreach (var record in records)
            {
                record.User = RecordDecoder.Decode(record.Consumed, out var rejection);
                if (rejection is not null)
                {
                    record.State = SinkRecordState.Rejected;
                    record.Rejection = rejection;
                    LogUndecodable(_logger, record.Consumed.TopicPartitionOffset.ToString(), rejection.Code, rejection.Reason);
                }
            }

            _writer.Write(records, WaitPolling, drainToken);

            // The dead-letter copies must be durable before their offsets are committed.
            var deadLetters = records.Where(r => r.State == SinkRecordState.Rejected).ToList();
            if (deadLetters.Count > 0)
            {
                var sent = _deadLetters.SendAllAsync(deadLetters, drainToken);
                WaitPolling(sent, drainToken);
                sent.GetAwaiter().GetResult();
            }

            Commit(_inHand.Batch);
            Resume();
            _health.Progressed();
        }
        finally
        {
            foreach (var record in records)
            {
                SinkTracing.Finish(record);
            }

            _inHand = null;
        }
    }

    private void Commit(MessageBatch batch)
    {
        var offsets = batch.NextOffsets();
        if (offsets.Count == 0)
        {
            return;
        }

        try
        {
            _consumer.Commit(offsets);
        }
        catch (KafkaException e)
        {
            // The rows are durable: a later commit covers them, or they are redelivered and rewritten idempotently.
            LogCommitFailed(_logger, e, batch.Count, e.Error.Reason);
        }
    }

    /// <summary>
    /// Until <paramref name="work"/> is done: after a moment, fetching paused and the consumer still polled (so
    /// that it keeps its group membership and sees revocations); what it returns is carried to the next batch.
    /// </summary>
    private void WaitPolling(Task work, CancellationToken cancellationToken)
    {
        if (((IAsyncResult)work).AsyncWaitHandle.WaitOne(PollSlice))
        {
            return;
        }

        if (!_paused)
        {
            _paused = true;
            LogPaused(_logger);
        }

        while (!work.IsCompleted)
        {
            cancellationToken.ThrowIfCancellationRequested();
            _consumer.Pause(_consumer.Assignment);
            var result = _consumer.Consume(PollSlice);
            if (result is { IsPartitionEOF: false })
            {
                // Fetched before the pause took effect, or from a partition assigned meanwhile: next batch.
                _carried.Add(result);
            }

            ReportLag(force: false);
        }
    }

    private void Resume()
    {
        if (_paused)
        {
            _paused = false;
            _consumer.Resume(_consumer.Assignment);
            LogResumed(_logger);
        }
    }

    private void OnRevoked(List<TopicPartition> partitions)
    {
        _revokedWhileGathering.UnionWith(partitions);
        _inHand?.Drop(partitions);
        _carried.RemoveAll(r => partitions.Contains(r.TopicPartition));
        LogRevoked(_logger, partitions);
    }

    private void ReportLag(bool force)
    {
        var now = Stopwatch.GetTimestamp();
        if (!force && Stopwatch.GetElapsedTime(_lastLagReport, now) < LagReportInterval)
        {
            return;
        }

        _lastLagReport = now;
        var lag = ConsumerLag.Of(_consumer);
        // Work waiting: records not yet consumed, plus those in hand or carried and not yet committed.
        _health.Lag(lag.Sum(p => p.Lag) + (_inHand?.Batch.Count ?? 0) + _carried.Count);
        _metrics.ReportLag(lag);
    }

    public void Dispose()
    {
        try
        {
            _consumer.LeaveGroup(LeaveTimeout);
            _consumer.Close();
        }
        catch (KafkaException e)
        {
            LogCloseFailed(_logger, e);
        }
        finally
        {
            _consumer.Dispose();
            _metrics.ReportLag([]);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Consuming {Topic} as group {Group}")]
    private static partial void LogSubscribed(ILogger logger, string topic, string group);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Record {Position} cannot be stored ({Code}): {Reason}; dead-lettering it")]
    private static partial void LogUndecodable(ILogger logger, string position, string code, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Offset commit of {Records} stored record(s) failed: {Reason}; they will be redelivered and rewritten idempotently")]
    private static partial void LogCommitFailed(ILogger logger, Exception exception, int records, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Fetching paused until the batch in hand is written and its dead letters acknowledged")]
    private static partial void LogPaused(ILogger logger);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Fetching resumed")]
    private static partial void LogResumed(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "Partitions revoked: {Partitions}; their records in hand are left to the new owner")]
    private static partial void LogRevoked(ILogger logger, IReadOnlyList<TopicPartition> partitions);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Kafka error {Code}: {Reason} (fatal: {Fatal})")]
    private static partial void LogKafkaError(ILogger logger, ErrorCode code, string reason, bool fatal);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Closing the consumer failed")]
    private static partial void LogCloseFailed(ILogger logger, Exception exception);
}
