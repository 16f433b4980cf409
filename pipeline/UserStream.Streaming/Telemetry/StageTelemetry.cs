namespace UserStream.Streaming.Telemetry;

/// <summary>
/// The one <see cref="ActivitySource"/> and <see cref="Meter"/> of a stage, both named
/// <c>UserStream.&lt;Stage&gt;</c>. Register one per stage as a singleton.
/// </summary>
public sealed class StageTelemetry : IDisposable
{
    public const string Ingest = "UserStream.Ingest";
    public const string Process = "UserStream.Process";
    public const string Sink = "UserStream.Sink";

    /// <summary>Every stage's source and meter name, for OpenTelemetry registration.</summary>
    public static readonly IReadOnlyList<string> AllNames = [Ingest, Process, Sink];

    public StageTelemetry(string name, IMeterFactory meterFactory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Name = name;
        Source = new ActivitySource(name);
        Meter = meterFactory.Create(name);
    }

    public string Name { get; }
    public ActivitySource Source { get; }
    public Meter Meter { get; }

    public void Dispose() => Source.Dispose();
}
