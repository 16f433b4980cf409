using Polly;

namespace UserStream.Process.Worker;

/// <summary>
/// One processor instance's Kafka clients and the exactly-once protocol between them: consume a batch
/// (read-committed, no transaction open), then in one transaction produce every output record and dead
/// letter, send the batch's consumed offsets, and commit. The transaction runs on the session's own thread
/// (<see cref="StartCommit"/>), so that the next batch is consumed and routed while it commits; the next
/// transaction begins only when this one has ended (<see cref="Settle"/>), so batches commit one after the other,
/// in order. A batch whose transaction aborts is redone from the committed offsets, together with the batch
/// consumed meanwhile; a batch whose partitions were revoked while it was gathered loses their records (the
/// partitions' new owner reads them from the committed offsets). A revocation waits for the transaction in
/// flight, so the partitions move only with their offsets committed (or the transaction aborted).
/// </summary>
internal sealed partial class TransactionalSession : IDisposable
{
    private readonly ProcessOptions _options;
    private readonly ILogger _logger;
    private readonly IProducer<string, byte[]> _producer;
    private readonly IConsumer<string, byte[]> _consumer;
    private readonly List<TopicPartition> _revoked = [];
    private readonly ResiliencePipeline _produceRetry = Backoff.WhileLocalQueueFull("processor-produce", TimeSpan.FromMilliseconds(10)).ToPipeline(TimeProvider.System);
    private readonly ResiliencePipeline _transactionRetry;
    private readonly TransactionThread _transactions;
    private Transaction? _inFlight;
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
        _transactions = new TransactionThread(TransactionalId);
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
                        // The partitions move only once the transaction holding their offsets has ended.
                        _inFlight?.WaitUntilEnded();
                        _revoked.AddRange(partitions.Select(p => p.TopicPartition));
                        LogRevoked(_logger, TransactionalId, partitions);
                    }));
            _consumer.Subscribe(options.InputTopic);
        }
        catch
        {
            _consumer?.Dispose();
            _transactions.Dispose();
            _producer.Dispose();
            throw;
        }
    }

    public string TransactionalId { get; }

    /// <summary>Whether a transaction was started and not yet settled.</summary>
    public bool InFlight => _inFlight is not null;

    /// <summary>Records waiting on the assigned partitions (high watermark - position, summed; cached figures).</summary>
    public long Lag() => ConsumerLag.Of(_consumer).Sum(p => p.Lag);

    /// <summary>
    /// The next batch to process, each record routed by <paramref name="route"/> as it is consumed (while the rest
    /// of the batch is fetched), without the records of partitions revoked while it was gathered. Blocking; returns a
    /// partial batch when <paramref name="cancellationToken"/> is cancelled.
    /// </summary>
    public (MessageBatch Batch, IReadOnlyList<RoutedRecord> Records) NextBatch(
        Func<ConsumeResult<string, byte[]>, RoutedRecord> route, CancellationToken cancellationToken)
    {
        _revoked.Clear();
        var records = new List<RoutedRecord>();
        var batch = _consumer.ConsumeBatch(_options.Batch, cancellationToken, record => records.Add(route(record)));
        if (_revoked.Count == 0)
        {
            return (batch, records);
        }

        // A partition revoked and assigned back during the same batch was read again from its committed
        // offset, and those records went with the revoked ones: rewind it so they are read once more.
        var reassigned = _consumer.Assignment.Where(_revoked.Contains).ToList();
        if (reassigned.Count > 0)
        {
            SeekToCommitted(reassigned, batch);
        }

        // The same filter over the records and their routed outputs keeps the two in step.
        var kept = records.Where((_, i) => !_revoked.Contains(batch[i].TopicPartition)).ToList();
        return (batch.Without(_revoked), kept);
    }

    /// <summary>
    /// Starts the transaction of <paramref name="batch"/> on the session's transaction thread and returns at once:
    /// it produces <paramref name="records"/> (the batch's outputs), sends the batch's consumed offsets, commits, and
    /// then calls <paramref name="committed"/> (on that thread). The transaction before must have been settled.
    /// </summary>
    public void StartCommit(MessageBatch batch, IReadOnlyList<RoutedRecord> records, Action committed)
    {
        if (_inFlight is not null)
        {
            throw new InvalidOperationException("The transaction in flight has not been settled.");
        }

        // Read here, on the consumer's thread: the group generation the batch was consumed in, which the
        // coordinator checks (a rebalance since then fences the offsets and the transaction aborts).
        var group = _consumer.ConsumerGroupMetadata;
        _inFlight = new Transaction(batch, _transactions.Run(() =>
        {
            var done = Commit(batch, records, group);
            if (done)
            {
                committed();
            }

            return done;
        }));
    }

    /// <summary>
    /// Waits for the transaction in flight, if any, to end. True when it committed (or none was in flight). False when
    /// it was aborted: the consumer is then back at the committed offsets, and that batch and
    /// <paramref name="consumedSince"/> (consumed meanwhile, to be dropped) will be consumed and processed again.
    /// A fatal error of the transaction is thrown here.
    /// </summary>
    public bool Settle(MessageBatch? consumedSince = null)
    {
        if (_inFlight is not { } inFlight)
        {
            return true;
        }

        _inFlight = null;
        if (inFlight.Committed.GetAwaiter().GetResult())
        {
            return true;
        }

        SeekToCommitted(_consumer.Assignment, consumedSince is null ? [inFlight.Batch] : [inFlight.Batch, consumedSince]);
        return false;
    }

    /// <summary>
    /// One transaction: produces <paramref name="records"/>, sends the batch's consumed offsets and commits. False when
    /// the transaction had to be aborted.
    /// </summary>
    private bool Commit(MessageBatch batch, IReadOnlyList<RoutedRecord> records, IConsumerGroupMetadata group)
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
            WithRetries("send offsets to the transaction", timeout => _producer.SendOffsetsToTransaction(offsets, group, timeout));
            WithRetries("commit the transaction", timeout => _producer.CommitTransaction(timeout));
            _inTransaction = false;
            return true;
        }
        catch (KafkaTxnRequiresAbortException e)
        {
            LogAborting(_logger, e, TransactionalId, batch.Count, e.Error.Reason);
            WithRetries("abort the transaction", timeout => _producer.AbortTransaction(timeout));
            _inTransaction = false;
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
        // Reached without Close only when the run failed: let the transaction in flight end (its outcome no longer
        // matters: the next session resumes from the committed offsets), give up the open transaction if the producer
        // still can (a fenced or fatally failed one cannot; the broker or the next producer aborts it), then leave.
        _inFlight?.WaitUntilEnded();
        _inFlight = null;
        _transactions.Dispose();
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
    /// committed, to the first offset <paramref name="batches"/> read from it).
    /// </summary>
    private void SeekToCommitted(List<TopicPartition> partitions, params ReadOnlySpan<MessageBatch> batches)
    {
        if (partitions.Count == 0)
        {
            return;
        }

        var firstRead = new Dictionary<TopicPartition, long>();
        foreach (var batch in batches)
        {
            foreach (var record in batch)
            {
                if (!firstRead.TryGetValue(record.TopicPartition, out var first) || record.Offset.Value < first)
                {
                    firstRead[record.TopicPartition] = record.Offset.Value;
                }
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

    /// <summary>A batch whose transaction was started, and the transaction's outcome (true: committed).</summary>
    private sealed record Transaction(MessageBatch Batch, Task<bool> Committed)
    {
        /// <summary>Blocks until the transaction has ended, whatever its outcome (which <see cref="Settle"/> reads).</summary>
        public void WaitUntilEnded() => ((IAsyncResult)Committed).AsyncWaitHandle.WaitOne();
    }

    /// <summary>
    /// The session's own thread for its transactions, one at a time (the producer's transactional calls block).
    /// A dedicated thread rather than the thread pool: the pool's threads route the next batch meanwhile.
    /// </summary>
    private sealed class TransactionThread : IDisposable
    {
        private readonly Thread _thread;
        private readonly SemaphoreSlim _ready = new(0, 1);
        private Action? _next;
        private volatile bool _stopping;

        public TransactionThread(string name)
        {
            _thread = new Thread(Loop) { IsBackground = true, Name = name + " transactions" };
            _thread.Start();
        }

        /// <summary>Runs <paramref name="transaction"/> on the thread; the previous one must have ended.</summary>
        public Task<bool> Run(Func<bool> transaction)
        {
            var outcome = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            _next = () =>
            {
                try
                {
                    outcome.SetResult(transaction());
                }
#pragma warning disable CA1031 // Handed to the session's thread, which rethrows it (Settle).
                catch (Exception e)
#pragma warning restore CA1031
                {
                    outcome.SetException(e);
                }
            };
            _ready.Release();
            return outcome.Task;
        }

        public void Dispose()
        {
            _stopping = true;
            _ready.Release();
            _thread.Join();
            _ready.Dispose();
        }

        private void Loop()
        {
            while (true)
            {
                _ready.Wait();
                if (_stopping)
                {
                    return;
                }

                Interlocked.Exchange(ref _next, null)!();
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
