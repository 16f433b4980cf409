namespace UserStream.Process;

/// <summary>The process stage's settings. Section <c>Process</c>; validated at startup.</summary>
public sealed class ProcessOptions : IValidatableObject
{
    public const string SectionName = "Process";

    /// <summary>
    /// This instance's stable identity: the transactional id is <c>processor-{InstanceId}</c>, so a
    /// restarted instance fences its predecessor and aborts the transaction it left open. Give every
    /// concurrently running instance its own id and keep it across restarts (default: the machine name).
    /// </summary>
    [Required(AllowEmptyStrings = false)]
    [StringLength(200)]
    public string InstanceId { get; set; } = Environment.MachineName;

    /// <summary>Consumer group of all processor instances.</summary>
    [Required(AllowEmptyStrings = false)]
    public string ConsumerGroup { get; set; } = "processor";

    [Required(AllowEmptyStrings = false)]
    public string InputTopic { get; set; } = Topics.UsersCreated;

    [Required(AllowEmptyStrings = false)]
    public string OutputTopic { get; set; } = Topics.UsersEnriched;

    [Required(AllowEmptyStrings = false)]
    public string DeadLetterTopic { get; set; } = Topics.DeadLetter;

    /// <summary>One transaction per batch: closed at whichever of count, bytes or time comes first.</summary>
    public BatchLimits Batch { get; set; } = new();

    /// <summary>The broker aborts a transaction left open longer than this (transaction.timeout.ms).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:15:00")]
    public TimeSpan TransactionTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Longest one transactional call (init, send offsets, commit, abort, committed-offset lookup) may
    /// take before it counts as failed; retriable failures are retried within this time.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan OperationTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>What a users_created record must look like to be accepted.</summary>
    public ValidationOptions Validation { get; set; } = new();

    /// <summary>Reading and replaying the dead letters (section <c>Process:DeadLetters</c>; the API's <c>/dead-letters</c>).</summary>
    public DeadLetterOptions DeadLetters { get; set; } = new();

    /// <summary>When the loop counts as stalled (section <c>Process:Health</c>).</summary>
    public WorkerHealthOptions Health { get; set; } = new();

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var result in NestedOptions.Validate(
            SectionName, (nameof(Batch), Batch), (nameof(Validation), Validation), (nameof(Health), Health), (nameof(DeadLetters), DeadLetters)))
        {
            yield return result;
        }

        if (DeadLetters.ReplayTopic is { } replayTopic
            && new[] { InputTopic, OutputTopic, DeadLetterTopic }.Contains(replayTopic, StringComparer.Ordinal))
        {
            yield return new ValidationResult(
                $"{SectionName}:{nameof(DeadLetters)}:{nameof(DeadLetterOptions.ReplayTopic)} ('{replayTopic}') must be a topic of its own, not the input, output or dead-letter topic.",
                [$"{nameof(DeadLetters)}.{nameof(DeadLetterOptions.ReplayTopic)}"]);
        }
    }
}
