namespace UserStream.Ingest.Schedule;

/// <summary>
/// Whether the stage is ready: its tables exist, runs nobody runs any more were marked interrupted, and the schedule
/// is loaded. Until then runs are refused (503) and the health check (<c>ingest</c>) is unhealthy with the last
/// problem seen.
/// </summary>
internal sealed class IngestReadiness() : Readiness("run ledger ready", "starting: preparing the run ledger");
