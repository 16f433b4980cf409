using System.Xml;

namespace UserStream.Ingest.Endpoints;

/// <summary>
/// The stage's HTTP API: trigger a run, read the run history, read and change the schedule.
/// Bad requests get 400 validation problems naming the field; an unknown run 404; a trigger while a
/// run is in progress 409 with the running run's id (triggers are refused, not queued); a stage that
/// cannot reach its ledger 503; a body over 16 KiB 413 (never read past the cap); a body that is not
/// <c>application/json</c> 415; a mutating request without the configured API key 401, with another 403.
/// Every error body is a ProblemDetails. Bodies, route and query values are bound and validated by the framework
/// through the toolkit (<see cref="JsonBody{T}"/>, <see cref="EndpointValidation.WithValidation{TBuilder}"/>).
/// </summary>
internal static class IngestEndpoints
{
    public const int DefaultListLimit = 20;
    public const int MaxListLimit = 500;

    public static IEndpointRouteBuilder Map(IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("").WithTags("Ingest");
        group.MapPost("/runs", TriggerAsync).WithName("TriggerRun").RequireApiKey().WithValidation();
        group.MapGet("/runs", ListAsync).WithName("ListRuns").WithValidation();
        group.MapGet("/runs/{id}", GetAsync).WithName("GetRun").WithValidation();
        group.MapGet("/schedule", GetSchedule).WithName("GetSchedule");
        group.MapPut("/schedule", UpdateScheduleAsync).WithName("UpdateSchedule").RequireApiKey().WithValidation();
        return endpoints;
    }

    private static async Task<IResult> TriggerAsync(
        JsonBody<TriggerRunRequest> trigger, HttpRequest request, RunCoordinator coordinator, ScheduleState schedule, IngestReadiness readiness,
        IOptions<IngestOptions> options)
    {
        var body = trigger.Value;
        var maxRunSize = options.Value.MaxRunSize;
        if (body?.Size is { } requested && (requested < 1 || requested > maxRunSize))
        {
            return Invalid("size", $"size must be between 1 and {maxRunSize} (Ingest:MaxRunSize); got {requested}.");
        }

        if (!readiness.IsReady || schedule.Settings is not { } settings)
        {
            return NotReady(readiness);
        }

        var size = body?.Size ?? Math.Min(settings.Size, maxRunSize);
        var result = await coordinator.TryStartAsync(RunTrigger.Manual, size, Activity.Current?.Context ?? default, request.HttpContext.RequestAborted);
        return result switch
        {
            TriggerResult.Started started => TypedResults.Accepted($"{request.PathBase}/runs/{started.Run.Id}", RunView.Of(started.Run)),
            TriggerResult.Busy busy => TypedResults.Problem(
                title: "A run is in progress",
                detail: $"Run {busy.RunningRunId} is in progress and runs never overlap; the trigger was refused. Try again when it has ended (GET /runs/{busy.RunningRunId}).",
                statusCode: StatusCodes.Status409Conflict,
                extensions: new Dictionary<string, object?> { ["runningRunId"] = busy.RunningRunId }),
            TriggerResult.Unavailable unavailable => Unavailable(unavailable.Reason),
            _ => throw new UnreachableException(),
        };
    }

    private static async Task<IResult> ListAsync(
        [FromQuery, Range(1, MaxListLimit)] int? limit, RunLedger ledger, IngestReadiness readiness, CancellationToken cancellationToken)
    {
        var count = limit ?? DefaultListLimit;
        if (!readiness.IsReady)
        {
            return NotReady(readiness);
        }

        try
        {
            var runs = await ledger.ListAsync(count, cancellationToken);
            return TypedResults.Ok(runs.Select(RunView.Of).ToList());
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            return Unavailable($"the run ledger is unreachable: {e.Message}");
        }
    }

    private static async Task<IResult> GetAsync(Guid id, RunLedger ledger, IngestReadiness readiness, CancellationToken cancellationToken)
    {
        if (!readiness.IsReady)
        {
            return NotReady(readiness);
        }

        try
        {
            return await ledger.GetAsync(id, cancellationToken) is { } run
                ? TypedResults.Ok(RunView.Of(run))
                : TypedResults.Problem(
                    title: "No such run", detail: $"No run has id {id}.", statusCode: StatusCodes.Status404NotFound);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            return Unavailable($"the run ledger is unreachable: {e.Message}");
        }
    }

    private static IResult GetSchedule(ScheduleState schedule, IngestReadiness readiness, IOptions<IngestOptions> options, TimeProvider time) =>
        readiness.IsReady && schedule.Settings is { } settings
            ? TypedResults.Ok(ScheduleView.Of(settings, schedule.DueAt(time.GetUtcNow()), options.Value.MaxRunSize))
            : NotReady(readiness);

    private static async Task<IResult> UpdateScheduleAsync(
        JsonBody<ScheduleUpdateRequest> update, HttpRequest request, ScheduleState schedule, ScheduleStore store, IngestReadiness readiness,
        IOptions<IngestOptions> options, TimeProvider time)
    {
        var body = update.Value;
        if (body is null || (body.Interval is null && body.Size is null && body.Paused is null))
        {
            return Invalid("body", "Give at least one of 'interval', 'size', 'paused'.");
        }

        var errors = new Dictionary<string, string[]>();
        TimeSpan? interval = null;
        if (body.Interval is not null)
        {
            if (!TryParseInterval(body.Interval, out var parsed))
            {
                errors["interval"] = [$"'{body.Interval}' is not a duration; use [d.]hh:mm:ss (e.g. 00:01:00) or ISO 8601 (e.g. PT1M)."];
            }
            else if (parsed < ScheduleOptions.MinInterval || parsed > ScheduleOptions.MaxInterval)
            {
                errors["interval"] = [$"interval must be between {ScheduleOptions.MinInterval:c} and {ScheduleOptions.MaxInterval:c}; got {parsed:c}."];
            }
            else
            {
                interval = parsed;
            }
        }

        var maxRunSize = options.Value.MaxRunSize;
        if (body.Size is { } size && (size < 1 || size > maxRunSize))
        {
            errors["size"] = [$"size must be between 1 and {maxRunSize} (Ingest:MaxRunSize); got {size}."];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "The schedule update is not valid");
        }

        if (!readiness.IsReady || schedule.Settings is null)
        {
            return NotReady(readiness);
        }

        await schedule.Updates.WaitAsync(request.HttpContext.RequestAborted);
        try
        {
            var current = schedule.Settings!;
            var saved = await store.SaveAsync(
                interval ?? current.Interval, body.Size ?? current.Size, body.Paused ?? current.Paused,
                time.GetUtcNow(), request.HttpContext.RequestAborted);
            schedule.Set(saved);
            return TypedResults.Ok(ScheduleView.Of(saved, schedule.DueAt(time.GetUtcNow()), maxRunSize));
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            return Unavailable($"the schedule could not be stored: {e.Message}");
        }
        finally
        {
            schedule.Updates.Release();
        }
    }

    private static bool TryParseInterval(string text, out TimeSpan interval)
    {
        if (TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out interval))
        {
            return true;
        }

        if (text.StartsWith('P'))
        {
            try
            {
                interval = XmlConvert.ToTimeSpan(text);
                return true;
            }
            catch (FormatException)
            {
            }
            catch (OverflowException)
            {
                // Longer than TimeSpan.MaxValue: certainly over the schedule's maximum.
                interval = TimeSpan.MaxValue;
                return true;
            }
        }

        return false;
    }

    private static ValidationProblem Invalid(string field, string message) => EndpointValidation.Invalid(field, message);

    private static ProblemHttpResult NotReady(IngestReadiness readiness) =>
        Unavailable(readiness.Problem ?? "the stage is starting (preparing the run ledger)");

    private static ProblemHttpResult Unavailable(string reason) =>
        TypedResults.Problem(title: "The ingest stage is unavailable", detail: reason, statusCode: StatusCodes.Status503ServiceUnavailable);
}
