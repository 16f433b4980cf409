using Polly;

namespace UserStream.Process.Worker;

/// <summary>
/// One processor instance's Kafka clients and the exactly-once protocol between them: consume a batch
/// (read-committed, no transaction open), then in one transaction produce every output record and dead
/// letter, send the batch's consumed offsets, and commit. A batch whose transaction aborts is redone
/// from the committed offsets; a batch whose partitions were revoked while it was gathered loses their
/// records (the partitions' new owner reads them from the committed offsets).
/// </summary>
/// <remarks>
/// Creating a session initialises the transactional producer <c>processor-{InstanceId}</c>, which fences
/// any earlier producer with that id and has the broker abort the transaction it left open, before the
/// consumer joins the group as the static member <c>processor-{InstanceId}</c> (taking a crashed
/// predecessor's place at once). A fatal error (fenced, ...) propagates: the owner disposes the session and
/// opens a new one, which resumes from the committed offsets.
/// </remarks>
internal sealed partial class TransactionalSession : IDisposable
{
    private readonly ProcessOptions _options;
    private readonly ILogger _logger;
    private readonly IProducer<string, byte[]> _producer;
    private readonly IConsumer<string, byte[]> _consumer;
    private readonly List<TopicPartition> _revoked = [];
    private readonly ResiliencePipeline _produceRetry = Backoff.WhileLocalQueueFull("processor-produce", TimeSpan.FromMilliseconds(10)).ToPipeline(TimeProvider.System);
    private readonly ResiliencePipeline _transactionRetry;
    private string _operation = "";
    private DateTime _deadline;
    private bool _inTransaction;
    private bool _closed;

    public TransactionalSession(KafkaClientFactory clients, ProcessOptions options, ILogger logger)
    {
        _options = options;
        _logger = logger;
        TransactionalId = "processor-" + options.InstanceId;
        _transactionRetry = TransactionRetry();
        _producer = clients.CreateProducer(KafkaClientShapes.Transactional(TransactionalId, options.TransactionTimeout));
        try
        {
            _producer.InitTransactions(options.OperationTimeout);
            _consumer = clients.CreateConsumer(
                options.ConsumerGroup,
                config =>
                {
                    KafkaClientShapes.ReadCommittedManualCommit(config);
                    KafkaClientShapes.StaticMember(TransactionalId)(config);
                },
                builder => builder
                    .SetPartitionsAssignedHandler((_, partitions) => LogAssigned(_logger, TransactionalId, partitions))
                    .SetPartitionsRevokedHandler((_, partitions) =>
                    {
                        _revoked.AddRange(partitions.Select(p => p.TopicPartition));
                        LogRevoked(_logger, TransactionalId, partitions);
                    }));
            _consumer.Subscribe(options.InputTopic);
        }
        catch
        {
            _consumer?.Dispose();
            _producer.Dispose();
            throw;
        }
    }

    public string TransactionalId { get; }

    /// <summary>Records waiting on the assigned partitions (high watermark - position, summed; cached figures).</summary>
    public long Lag() => ConsumerLag.Of(_consumer).Sum(p => p.Lag);

    /// <summary>
    /// The next batch to process, without the records of partitions revoked while it was gathered.
    /// Blocking; returns a partial batch when <paramref name="cancellationToken"/> is cancelled.
    /// </summary>
    public MessageBatch NextBatch(CancellationToken cancellationToken)
    {
        _revoked.Clear();
        var batch = _consumer.ConsumeBatch(_options.Batch, cancellationToken);
        if (_revoked.Count == 0)
        {
            return batch;
        }

        // A partition revoked and assigned back during the same batch was read again from its committed
        // offset, and those records went with the revoked ones: rewind it so they are read once more.
        var reassigned = _consumer.Assignment.Where(_revoked.Contains).ToList();
        if (reassigned.Count > 0)
        {
            SeekToCommitted(reassigned, batch);
        }

        return batch.Without(_revoked);
    }

    /// <summary>
    /// Produces <paramref name="records"/> (the batch's outputs) and commits them together with the
    /// batch's consumed offsets. False when the transaction had to be aborted: the consumer is then back
    /// at the committed offsets and the batch will be consumed and processed again.
    /// </summary>
    public bool Commit(MessageBatch batch, IReadOnlyList<RoutedRecord> records)
    {
        try
        {
            _producer.BeginTransaction();
            _inTransaction = true;
            foreach (var record in records)
            {
                Produce(record);
            }

            var offsets = batch.NextOffsets();
            WithRetries("send offsets to the transaction", timeout => _producer.SendOffsetsToTransaction(offsets, _consumer.ConsumerGroupMetadata, timeout));
            WithRetries("commit the transaction", timeout => _producer.CommitTransaction(timeout));
            _inTransaction = false;
            return true;
        }
        catch (KafkaTxnRequiresAbortException e)
        {
            LogAborting(_logger, e, TransactionalId, batch.Count, e.Error.Reason);
            WithRetries("abort the transaction", timeout => _producer.AbortTransaction(timeout));
            _inTransaction = false;
            SeekToCommitted(_consumer.Assignment, batch);
            return false;
        }
    }

    /// <summary>Graceful end: leaves the consumer group so that its partitions move at once.</summary>
    public void Close()
    {
        if (!_closed)
        {
            _closed = true;
            _consumer.LeaveGroup(_options.OperationTimeout);
            _consumer.Close();
        }
    }

    public void Dispose()
    {
        // Reached without Close only when the run failed: give up the open transaction if the producer still
        // can (a fenced or fatally failed one cannot; the broker or the next producer aborts it), then leave.
        if (_inTransaction)
        {
            try
            {
                _producer.AbortTransaction(TimeSpan.FromSeconds(5));
            }
            catch (KafkaException e)
            {
                LogAbortOnDisposeFailed(_logger, TransactionalId, e.Error.Reason);
            }
        }

        try
        {
            Close();
        }
        catch (KafkaException e)
        {
            LogCloseFailed(_logger, TransactionalId, e.Error.Reason);
        }

        _consumer.Dispose();
        _producer.Dispose();
    }

    private void Produce(RoutedRecord record)
    {
        try
        {
            _producer.Produce(record.Topic, record.Message);
        }
        catch (ProduceException<string, byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
        {
            // The local queue drains as the brokers acknowledge: try again until there is room (off the common path).
            _produceRetry.Execute(static state => state.Producer.Produce(state.Record.Topic, state.Record.Message), (Producer: _producer, Record: record));
        }
    }

    /// <summary>Runs a transactional call, repeating it on retriable errors for up to the operation timeout.</summary>
    private void WithRetries(string operation, Action<TimeSpan> call)
    {
        _operation = operation;
        _deadline = DateTime.UtcNow + _options.OperationTimeout;
        _transactionRetry.Execute(() =>
        {
            var remaining = _deadline - DateTime.UtcNow;
            call(remaining > TimeSpan.FromSeconds(1) ? remaining : TimeSpan.FromSeconds(1));
        });
    }

    private ResiliencePipeline TransactionRetry()
    {
        // 100 ms more each time, up to 1 s, until the operation's deadline.
        var retry = Backoff.Linear("processor-transaction", TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(1));
        retry.ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is KafkaRetriableException && DateTime.UtcNow < _deadline);
        retry.OnRetry = args =>
        {
            LogRetrying(_logger, TransactionalId, _operation, args.AttemptNumber + 1, ((KafkaRetriableException)args.Outcome.Exception!).Error.Reason);
            return ValueTask.CompletedTask;
        };
        return retry.ToPipeline(TimeProvider.System);
    }

    /// <summary>
    /// Moves <paramref name="partitions"/> back to their committed offsets (for a partition the group never
    /// committed, to the first offset <paramref name="batch"/> read from it).
    /// </summary>
    private void SeekToCommitted(List<TopicPartition> partitions, MessageBatch batch)
    {
        if (partitions.Count == 0)
        {
            return;
        }

        var firstRead = new Dictionary<TopicPartition, long>();
        foreach (var record in batch)
        {
            if (!firstRead.TryGetValue(record.TopicPartition, out var first) || record.Offset.Value < first)
            {
                firstRead[record.TopicPartition] = record.Offset.Value;
            }
        }

        foreach (var committed in _consumer.Committed(partitions, _options.OperationTimeout))
        {
            if (committed.Offset.Value >= 0)
            {
                _consumer.Seek(committed);
            }
            else if (firstRead.TryGetValue(committed.TopicPartition, out var first))
            {
                _consumer.Seek(new TopicPartitionOffset(committed.TopicPartition, first));
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{TransactionalId}: assigned {Partitions}")]
    private static partial void LogAssigned(ILogger logger, string transactionalId, List<TopicPartition> partitions);

    [LoggerMessage(Level = LogLevel.Information, Message = "{TransactionalId}: revoked {Partitions}")]
    private static partial void LogRevoked(ILogger logger, string transactionalId, List<TopicPartitionOffset> partitions);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{TransactionalId}: aborting the transaction of a batch of {Count} records, which will be redone: {Reason}")]
    private static partial void LogAborting(ILogger logger, Exception exception, string transactionalId, int count, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{TransactionalId}: {Operation} failed (attempt {Attempt}), retrying: {Reason}")]
    private static partial void LogRetrying(ILogger logger, string transactionalId, string operation, int attempt, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{TransactionalId}: could not abort the open transaction on shutdown: {Reason}")]
    private static partial void LogAbortOnDisposeFailed(ILogger logger, string transactionalId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{TransactionalId}: could not close the consumer: {Reason}")]
    private static partial void LogCloseFailed(ILogger logger, string transactionalId, string reason);
}
