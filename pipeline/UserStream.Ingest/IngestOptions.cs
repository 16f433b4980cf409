namespace UserStream.Ingest;

/// <summary>Where users come from.</summary>
public enum IngestSourceKind
{
    /// <summary>The randomuser.me API (resource <c>randomuser</c>).</summary>
    RandomUser,

    /// <summary>The offline, seeded generator: same JSON shape, no network, no rate limits.</summary>
    Generator,
}

/// <summary>The ingest stage's settings. Section <c>Ingest</c>; validated at startup.</summary>
public sealed class IngestOptions : IValidatableObject
{
    public const string SectionName = "Ingest";

    /// <summary>Where users come from: <c>RandomUser</c> or <c>Generator</c>.</summary>
    public IngestSourceKind Source { get; set; } = IngestSourceKind.RandomUser;

    /// <summary>Topic the raw users are produced to.</summary>
    [Required(AllowEmptyStrings = false)]
    public string Topic { get; set; } = Topics.UsersCreated;

    /// <summary>
    /// Seed of every run (reproducible runs: the same users each time). Empty: each run uses its own id as
    /// seed, so runs fetch different users while the pages of one run never overlap.
    /// </summary>
    public string? Seed { get; set; }

    /// <summary>Users fetched per call (randomuser's <c>results</c>; the API allows at most 5,000).</summary>
    [Range(1, 5_000)]
    public int PageSize { get; set; } = 5_000;

    /// <summary>Largest run size a trigger or the schedule may ask for.</summary>
    [Range(1, 10_000_000)]
    public int MaxRunSize { get; set; } = 100_000;

    /// <summary>Longest a run may fetch and produce; it then stops fetching and ends partial/failed.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan RunTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How long a run waits, after its last record, for the broker to acknowledge every record.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:30:00")]
    public TimeSpan DeliveryTimeout { get; set; } = TimeSpan.FromSeconds(150);

    /// <summary>On shutdown, how long a run in progress may spend delivering what it already fetched.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// This instance's id, recorded as the owner of each run it starts. At start an instance marks its own
    /// leftovers (runs recorded as running under this id) interrupted at once. Give each replica a stable id (the
    /// ingestor service sets it per replica, as the processor's). Empty: machine name and process id.
    /// </summary>
    [StringLength(200)]
    public string? InstanceId { get; set; }

    /// <summary>
    /// How long a running run stays owned without a sign of life. Its owner renews the lease every third of it;
    /// a run whose lease has lapsed (its owner crashed or lost the database) is marked interrupted by the next
    /// instance that starts or that wants to start a run. A live owner's run is never touched.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan RunLease { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The id recorded as the owner of this instance's runs.</summary>
    internal string Owner => string.IsNullOrWhiteSpace(InstanceId) ? $"{Environment.MachineName}-{Environment.ProcessId}" : InstanceId;

    public ScheduleOptions Schedule { get; set; } = new();

    public RandomUserOptions RandomUser { get; set; } = new();

    public GeneratorOptions Generator { get; set; } = new();

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var result in NestedOptions.Validate(
            SectionName, (nameof(Schedule), Schedule), (nameof(RandomUser), RandomUser), (nameof(Generator), Generator)))
        {
            yield return result;
        }

        if (Schedule.Size > MaxRunSize)
        {
            yield return new ValidationResult(
                $"Ingest:Schedule:Size ({Schedule.Size}) is above Ingest:MaxRunSize ({MaxRunSize}).", [nameof(Schedule)]);
        }

        if (Source == IngestSourceKind.RandomUser && !Uri.TryCreate(RandomUser.BaseAddress, UriKind.Absolute, out _))
        {
            yield return new ValidationResult(
                $"Ingest:RandomUser:BaseAddress '{RandomUser.BaseAddress}' is not an absolute URI.", [nameof(RandomUser)]);
        }

        if (Source == IngestSourceKind.RandomUser)
        {
            foreach (var result in RandomUser.RequiredFieldsDropped())
            {
                yield return result;
            }
        }

        foreach (var code in Generator.NationalityCodes())
        {
            if (!Sources.Generator.Nationalities.IsKnown(code))
            {
                yield return new ValidationResult(
                    $"Ingest:Generator:Nationalities has unknown code '{code}'; known: {string.Join(',', Sources.Generator.Nationalities.Codes)}.",
                    [nameof(Generator)]);
            }
        }
    }
}

/// <summary>The schedule's initial settings (section <c>Ingest:Schedule</c>). Once changed through
/// <c>PUT /schedule</c> the stored settings win over these.</summary>
public sealed class ScheduleOptions
{
    public static readonly TimeSpan MinInterval = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan MaxInterval = TimeSpan.FromDays(1);

    /// <summary>Time between the starts of two scheduled runs.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan Interval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Users fetched by each scheduled run.</summary>
    [Range(1, 10_000_000)]
    public int Size { get; set; } = 500;

    /// <summary>Whether scheduled runs are paused (manual runs still work).</summary>
    public bool Paused { get; set; }
}

/// <summary>The randomuser.me client (section <c>Ingest:RandomUser</c>).</summary>
public sealed class RandomUserOptions
{
    /// <summary>
    /// Base address. The default is resolved by service discovery (Aspire resource <c>randomuser</c>);
    /// outside Aspire use e.g. <c>https://randomuser.me/</c>.
    /// </summary>
    [Required(AllowEmptyStrings = false)]
    public string BaseAddress { get; set; } = "https+http://" + ResourceNames.RandomUser;

    /// <summary>Path of the API relative to the base address; pinned to version 1.4 so the shape stays stable.</summary>
    [Required(AllowEmptyStrings = false)]
    public string Path { get; set; } = "api/1.4/";

    /// <summary>randomuser's <c>nat</c>: comma-separated nationality codes (empty: all).</summary>
    [RegularExpression("^[A-Za-z]{2}(,[A-Za-z]{2})*$", ErrorMessage = "Ingest:RandomUser:Nationalities must be comma-separated two-letter codes, e.g. 'us,gb,fr'.")]
    public string? Nationalities { get; set; }

    /// <summary>randomuser's <c>inc</c>: comma-separated fields to include (empty: all).</summary>
    [RegularExpression("^[a-z]+(,[a-z]+)*$", ErrorMessage = "Ingest:RandomUser:Include must be comma-separated field names, e.g. 'name,login,email'.")]
    public string? Include { get; set; }

    /// <summary>randomuser's <c>exc</c>: comma-separated fields to exclude.</summary>
    [RegularExpression("^[a-z]+(,[a-z]+)*$", ErrorMessage = "Ingest:RandomUser:Exclude must be comma-separated field names, e.g. 'picture'.")]
    public string? Exclude { get; set; }

    /// <summary>
    /// The <see cref="RandomUserFields.Required"/> fields that <see cref="Include"/> or <see cref="Exclude"/>
    /// would drop: each a validation error naming the key and the field (every user would be dead-lettered).
    /// </summary>
    internal IEnumerable<ValidationResult> RequiredFieldsDropped()
    {
        var excluded = Fields(Exclude);
        var included = Fields(Include);
        foreach (var (field, why) in RandomUserFields.Required)
        {
            if (excluded.Contains(field))
            {
                yield return new ValidationResult(
                    $"Ingest:RandomUser:Exclude drops '{field}', which the processor requires ({why}).", [nameof(Exclude)]);
            }
            else if (included.Count > 0 && !included.Contains(field))
            {
                yield return new ValidationResult(
                    $"Ingest:RandomUser:Include leaves out '{field}', which the processor requires ({why}).", [nameof(Include)]);
            }
        }

        static HashSet<string> Fields(string? list) =>
            string.IsNullOrWhiteSpace(list)
                ? []
                : [.. list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
    }

    /// <summary>Longest one call (request and whole body) may take.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Largest response body accepted (a page of 5,000 users with every field is about 6 MiB). A larger one — declared
    /// by Content-Length or as it streams in — is cut off at the cap, never buffered past it, and fails the page with
    /// <c>response_too_large</c> (not retried: the same request would get the same answer).
    /// </summary>
    [Range(64 * 1024, 1024 * 1024 * 1024)]
    public int MaxResponseBytes { get; set; } = 32 * 1024 * 1024;

    /// <summary>Retries of a failed call (so at most MaxRetries + 1 attempts per page).</summary>
    [Range(0, 20)]
    public int MaxRetries { get; set; } = 4;

    /// <summary>First retry delay; doubled each retry, with jitter.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Longest delay between two attempts (also caps a Retry-After the API sends).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>The offline generator (section <c>Ingest:Generator</c>).</summary>
public sealed class GeneratorOptions
{
    /// <summary>Comma-separated nationality codes to generate (empty: all the generator knows).</summary>
    public string? Nationalities { get; set; }

    internal IReadOnlyList<string> NationalityCodes() =>
        string.IsNullOrWhiteSpace(Nationalities)
            ? []
            : [.. Nationalities.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(c => c.ToUpperInvariant())];
}
