namespace UserStream.Ingest.Endpoints;

/// <summary>Body of <c>POST /runs</c> (optional): how many users to fetch.</summary>
public sealed record TriggerRunRequest(int? Size);

/// <summary>Body of <c>PUT /schedule</c>: the settings to change (at least one).</summary>
public sealed record ScheduleUpdateRequest(string? Interval, int? Size, bool? Paused);

/// <summary>A run as the API shows it (public: the tests', benchmarks' and AppHost tests' client reads it).</summary>
public sealed record RunView(
    Guid Id,
    string Trigger,
    string Source,
    string Seed,
    string Status,
    int Requested,
    int Fetched,
    int Produced,
    int Failed,
    int WithoutKey,
    int FetchAttempts,
    string? Error,
    DateTimeOffset StartedAt,
    DateTimeOffset? EndedAt,
    string? TraceId)
{
    internal static RunView Of(RunRecord run) => new(
        run.Id, run.Trigger.Text(), run.Source, run.Seed, run.Status.Text(), run.Requested,
        run.Counts.Fetched, run.Counts.Produced, run.Counts.Failed, run.Counts.WithoutKey, run.Counts.FetchAttempts,
        run.Error, run.StartedAt, run.EndedAt, run.TraceId);
}

/// <summary>The schedule as the API shows it; <c>interval</c> as <c>[d.]hh:mm:ss</c>.</summary>
public sealed record ScheduleView(
    string Interval,
    int Size,
    bool Paused,
    DateTimeOffset? NextRunAt,
    string SetBy,
    DateTimeOffset UpdatedAt,
    int MaxRunSize)
{
    internal static ScheduleView Of(ScheduleSettings settings, DateTimeOffset? nextRunAt, int maxRunSize) => new(
        settings.Interval.ToString("c", CultureInfo.InvariantCulture), settings.Size, settings.Paused,
        settings.Paused ? null : nextRunAt, settings.SetBy, settings.UpdatedAt, maxRunSize);
}
