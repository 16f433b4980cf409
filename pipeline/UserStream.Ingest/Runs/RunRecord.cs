namespace UserStream.Ingest.Runs;

/// <summary>How a run ended (or that it has not yet).</summary>
public enum RunStatus
{
    /// <summary>Fetching and producing.</summary>
    Running,

    /// <summary>Every requested user was fetched and acknowledged by the broker.</summary>
    Succeeded,

    /// <summary>Some users were delivered, but not all requested: a fetch failed after its retries, the run
    /// timed out, or some deliveries failed. The error says which.</summary>
    Partial,

    /// <summary>Nothing was delivered, or the run was interrupted (service stopped or crashed).</summary>
    Failed,
}

/// <summary>What started a run.</summary>
public enum RunTrigger
{
    Schedule,
    Manual,
}

/// <summary>One row of the run ledger.</summary>
internal sealed record RunRecord(
    Guid Id,
    RunTrigger Trigger,
    string Source,
    string Seed,
    int Requested,
    RunCounts Counts,
    RunStatus Status,
    string? Error,
    DateTimeOffset StartedAt,
    DateTimeOffset? EndedAt,
    string? TraceId);

/// <summary>The ledger's text for statuses and triggers.</summary>
internal static class RunText
{
    public static string Text(this RunStatus status) => status switch
    {
        RunStatus.Running => "running",
        RunStatus.Succeeded => "succeeded",
        RunStatus.Partial => "partial",
        RunStatus.Failed => "failed",
        _ => throw new ArgumentOutOfRangeException(nameof(status)),
    };

    public static string Text(this RunTrigger trigger) => trigger == RunTrigger.Schedule ? "schedule" : "manual";

    public static RunStatus ParseStatus(string text) => text switch
    {
        "running" => RunStatus.Running,
        "succeeded" => RunStatus.Succeeded,
        "partial" => RunStatus.Partial,
        "failed" => RunStatus.Failed,
        _ => throw new FormatException($"unknown run status '{text}'"),
    };

    public static RunTrigger ParseTrigger(string text) => text == "schedule" ? RunTrigger.Schedule : RunTrigger.Manual;
}
