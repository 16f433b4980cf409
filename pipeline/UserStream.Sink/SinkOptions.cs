namespace UserStream.Sink;

/// <summary>Which <see cref="Store.IUserStore"/> the sink writes to.</summary>
public enum SinkStoreKind
{
    /// <summary>PostgreSQL table <c>created_users</c> in the pipeline database (registered by the stage).</summary>
    Postgres,

    /// <summary>Cassandra <c>spark_streams.created_users</c> (the Aspire shell registers the store before <c>AddSinkStage</c>).</summary>
    Cassandra,
}

/// <summary>The sink stage's settings. Section <c>Sink</c>, validated at startup.</summary>
public sealed class SinkOptions : IValidatableObject
{
    public const string SectionName = "Sink";

    /// <summary>Where rows go (<c>Sink:Store</c>). The one default: PostgreSQL, the pipeline database every
    /// deployment has; the AppHost always sets it (Cassandra with containers, PostgreSQL on existing infrastructure).</summary>
    public SinkStoreKind Store { get; set; } = SinkStoreKind.Postgres;

    /// <summary>
    /// The store <paramref name="configuration"/> selects (<c>Sink:Store</c>, case-insensitive; <see cref="Store"/>'s default
    /// when unset) — the one place the choice is read, by the stage and by a host that registers a store of its own.
    /// </summary>
    /// <exception cref="InvalidOperationException">The value names no store; the message names the key.</exception>
    public static SinkStoreKind StoreOf(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var configured = configuration[$"{SectionName}:{nameof(Store)}"];
        if (string.IsNullOrWhiteSpace(configured))
        {
            return new SinkOptions().Store;
        }

        return Enum.TryParse<SinkStoreKind>(configured, ignoreCase: true, out var kind) && Enum.IsDefined(kind)
            ? kind
            : throw new InvalidOperationException(
                $"Sink:Store is '{configured}'; expected one of {string.Join(", ", Enum.GetNames<SinkStoreKind>())}.");
    }

    /// <summary>The topic read.</summary>
    [Required]
    public string Topic { get; set; } = Topics.UsersEnriched;

    /// <summary>Where records that cannot be stored go, with the reason.</summary>
    [Required]
    public string DeadLetterTopic { get; set; } = Topics.DeadLetter;

    /// <summary>
    /// This instance's stable identity, when set: the sink joins its group as the static member
    /// <c>sink-{InstanceId}</c> (group.instance.id), so that an instance that crashed and is started again under
    /// the same id takes its partitions back at once. Unique among running instances. Empty: a dynamic member.
    /// </summary>
    [StringLength(200)]
    public string InstanceId { get; set; } = "";

    /// <summary>Consumer group whose committed offsets mark what is durably stored.</summary>
    [Required]
    public string GroupId { get; set; } = "sink";

    /// <summary>When a micro-batch is closed (count, bytes, time).</summary>
    public BatchLimits Batch { get; set; } = new();

    /// <summary>How writes are retried while the store fails.</summary>
    public StoreRetryOptions Retry { get; set; } = new();

    /// <summary>When the consume loop counts as stalled (section <c>Sink:Health</c>).</summary>
    public WorkerHealthOptions Health { get; set; } = new();

    /// <summary>
    /// On stop, how long the batch in hand may still take to be written and committed (including retries)
    /// before it is given up uncommitted (it is then redelivered to the next run).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(15);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var result in NestedOptions.Validate(SectionName, (nameof(Batch), Batch), (nameof(Retry), Retry), (nameof(Health), Health)))
        {
            yield return result;
        }

        if (Retry.MaxDelay < Retry.InitialDelay)
        {
            yield return new ValidationResult(
                "Sink:Retry:MaxDelay must not be shorter than Sink:Retry:InitialDelay.", [nameof(Retry)]);
        }

        if (string.Equals(Topic, DeadLetterTopic, StringComparison.Ordinal))
        {
            yield return new ValidationResult("Sink:DeadLetterTopic must differ from Sink:Topic.", [nameof(DeadLetterTopic)]);
        }
    }
}

/// <summary>Backoff of store writes and of dead-letter sends. Section <c>Sink:Retry</c>.</summary>
public sealed class StoreRetryOptions
{
    /// <summary>Pause after the first failed attempt; it doubles after each further failure.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:01:00")]
    public TimeSpan InitialDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Longest pause between attempts while the store is down (the store is retried forever).</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:10:00")]
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Attempts at a batch, or at one record alone, that the store refuses while it answers its probe
    /// (<see cref="Store.IUserStore.ProbeAsync"/>): then the batch is split in halves, and a record that alone
    /// is refused this many times is dead-lettered (<c>store_rejected</c>).
    /// </summary>
    [Range(1, 100)]
    public int MaxAttemptsPerRecord { get; set; } = 3;

    /// <summary>Longest the store's probe may take; a probe that takes longer counts as an outage.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00")]
    public TimeSpan ProbeTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The sink's backoff as a Polly retry named <paramref name="name"/>: without end, doubling from
    /// <see cref="InitialDelay"/> up to <see cref="MaxDelay"/>, no jitter. What it handles and does on each retry
    /// is the caller's to set.
    /// </summary>
    public RetryStrategyOptions RetryForever(string name) => Backoff.Exponential(name, InitialDelay, MaxDelay);
}
