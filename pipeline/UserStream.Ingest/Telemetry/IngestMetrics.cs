using System.Diagnostics.Metrics;

namespace UserStream.Ingest.Telemetry;

/// <summary>The ingest stage's instruments, on the stage's <c>UserStream.Ingest</c> meter.</summary>
internal sealed class IngestMetrics
{
    public const string UsersFetchedName = "userstream.ingest.users.fetched";
    private readonly Counter<long> _fetched;

    public const string UsersProducedName = "userstream.ingest.users.produced";
    private readonly Counter<long> _produced;

    public const string UsersWithoutKeyName = "userstream.ingest.users.without_key";
    private readonly Counter<long> _withoutKey;

    public const string DeliveryFailuresName = "userstream.ingest.delivery.failures";
    private readonly Counter<long> _deliveryFailures;

    public const string FetchAttemptsName = "userstream.ingest.fetch.attempts";
    private readonly Counter<long> _fetchAttempts;

    public const string FetchFailuresName = "userstream.ingest.fetch.failures";
    private readonly Counter<long> _fetchFailures;

    public const string RunDurationName = "userstream.ingest.run.duration";
    private readonly Histogram<double> _runDuration;

    public IngestMetrics(StageTelemetry telemetry)
    {
        var meter = telemetry.Meter;
        _fetched = meter.CreateCounter<long>(UsersFetchedName, "{user}", "Users fetched from the source.");
        _produced = meter.CreateCounter<long>(UsersProducedName, "{user}", "Users acknowledged by the broker.");
        _withoutKey = meter.CreateCounter<long>(UsersWithoutKeyName, "{user}", "Users produced without a login.uuid key.");
        _deliveryFailures = meter.CreateCounter<long>(DeliveryFailuresName, "{user}", "Users the broker did not acknowledge.");
        _fetchAttempts = meter.CreateCounter<long>(FetchAttemptsName, "{attempt}", "Calls to the source.");
        _fetchFailures = meter.CreateCounter<long>(FetchFailuresName, "{attempt}", "Failed calls to the source, by reason.");
        _runDuration = meter.CreateHistogram<double>(RunDurationName, "s", "Duration of ingestion runs, by trigger and status.");
    }

    public void Fetched(string source, int count) => _fetched.Add(count, new KeyValuePair<string, object?>("source", source));

    public void Produced(string source) => _produced.Add(1, new KeyValuePair<string, object?>("source", source));

    public void WithoutKey(string source) => _withoutKey.Add(1, new KeyValuePair<string, object?>("source", source));

    public void DeliveryFailed(string source, string error) =>
        _deliveryFailures.Add(1, new KeyValuePair<string, object?>("source", source), new KeyValuePair<string, object?>("error", error));

    public void FetchAttempt(string source) => _fetchAttempts.Add(1, new KeyValuePair<string, object?>("source", source));

    public void FetchFailed(string source, string reason) =>
        _fetchFailures.Add(1, new KeyValuePair<string, object?>("source", source), new KeyValuePair<string, object?>("reason", reason));

    public void RunEnded(string trigger, string status, TimeSpan duration) =>
        _runDuration.Record(duration.TotalSeconds,
            new KeyValuePair<string, object?>("trigger", trigger), new KeyValuePair<string, object?>("status", status));
}
