using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Xml;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;
using Npgsql;
using UserStream.Ingest.Ledger;
using UserStream.Ingest.Runs;
using UserStream.Ingest.Schedule;
using UserStream.Streaming.Hosting;

namespace UserStream.Ingest.Endpoints;

/// <summary>
/// The stage's HTTP API: trigger a run, read the run history, read and change the schedule.
/// Bad requests get 400 validation problems naming the field; an unknown run 404; a trigger while a
/// run is in progress 409 with the running run's id (triggers are refused, not queued); a stage that
/// cannot reach its ledger 503; a body over 16 KiB 413 (never read past the cap); a body that is not
/// <c>application/json</c> 415; a mutating request without the configured API key 401, with another 403.
/// Every error body is a ProblemDetails.
/// </summary>
internal static class IngestEndpoints
{
    public const int DefaultListLimit = 20;
    public const int MaxListLimit = 500;
    private const int MaxBodyBytes = 16 * 1024;

    private static readonly JsonSerializerOptions BodyOptions = new(JsonSerializerDefaults.Web)
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        NumberHandling = JsonNumberHandling.Strict,
    };

    /// <summary>The properties each body may have, and what each must be.</summary>
    private static readonly Dictionary<string, string> TriggerFields = new(StringComparer.OrdinalIgnoreCase)
    {
        ["size"] = "a whole number of users",
    };

    private static readonly Dictionary<string, string> ScheduleFields = new(StringComparer.OrdinalIgnoreCase)
    {
        ["interval"] = "a duration string such as \"00:01:00\" or \"PT1M\"",
        ["size"] = "a whole number of users",
        ["paused"] = "true or false",
    };

    public static IEndpointRouteBuilder Map(IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("").WithTags("Ingest");
        group.MapPost("/runs", TriggerAsync).WithName("TriggerRun").RequireApiKey();
        group.MapGet("/runs", ListAsync).WithName("ListRuns");
        group.MapGet("/runs/{id}", GetAsync).WithName("GetRun");
        group.MapGet("/schedule", GetSchedule).WithName("GetSchedule");
        group.MapPut("/schedule", UpdateScheduleAsync).WithName("UpdateSchedule").RequireApiKey();
        return endpoints;
    }

    private static async Task<IResult> TriggerAsync(
        HttpRequest request, RunCoordinator coordinator, ScheduleState schedule, IngestReadiness readiness, IOptions<IngestOptions> options)
    {
        var (body, bodyError) = await ReadBodyAsync<TriggerRunRequest>(request, required: false, TriggerFields);
        if (bodyError is not null)
        {
            return bodyError;
        }

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

    private static async Task<IResult> ListAsync(string? limit, RunLedger ledger, IngestReadiness readiness, CancellationToken cancellationToken)
    {
        var count = DefaultListLimit;
        if (limit is not null
            && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out count) || count < 1 || count > MaxListLimit))
        {
            return Invalid("limit", $"limit must be a whole number between 1 and {MaxListLimit}; got '{limit}'.");
        }

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

    private static async Task<IResult> GetAsync(string id, RunLedger ledger, IngestReadiness readiness, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(id, out var runId))
        {
            return Invalid("id", $"'{id}' is not a run id (a UUID such as 0196f3c2-7a51-7c3e-9d4b-2f1e8a6b5c40).");
        }

        if (!readiness.IsReady)
        {
            return NotReady(readiness);
        }

        try
        {
            return await ledger.GetAsync(runId, cancellationToken) is { } run
                ? TypedResults.Ok(RunView.Of(run))
                : TypedResults.Problem(
                    title: "No such run", detail: $"No run has id {runId}.", statusCode: StatusCodes.Status404NotFound);
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
        HttpRequest request, ScheduleState schedule, ScheduleStore store, IngestReadiness readiness,
        IOptions<IngestOptions> options, TimeProvider time)
    {
        var (body, bodyError) = await ReadBodyAsync<ScheduleUpdateRequest>(request, required: true, ScheduleFields);
        if (bodyError is not null)
        {
            return bodyError;
        }

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

    /// <summary>
    /// Reads a small JSON body with only the properties in <paramref name="fields"/>; an absent or empty
    /// body is null (an error when <paramref name="required"/>). Errors name the property at fault.
    /// </summary>
    private static async Task<(T? Body, IResult? Error)> ReadBodyAsync<T>(
        HttpRequest request, bool required, Dictionary<string, string> fields)
        where T : class
    {
        if (request.ContentLength > MaxBodyBytes)
        {
            return (null, TooLarge());
        }

        // Read while streaming, never past the cap: a chunked body of any length costs at most MaxBodyBytes + 1.
        var buffer = new byte[MaxBodyBytes + 1];
        var length = 0;
        try
        {
            int read;
            while (length < buffer.Length
                && (read = await request.Body.ReadAsync(buffer.AsMemory(length), request.HttpContext.RequestAborted)) > 0)
            {
                length += read;
            }
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (null, TooLarge());
        }

        if (length > MaxBodyBytes)
        {
            return (null, TooLarge());
        }

        if (length > 0 && !request.HasJsonContentType())
        {
            return (null, TypedResults.Problem(
                title: "The body must be JSON",
                detail: $"Send the body as application/json (Content-Type was '{request.ContentType}').",
                statusCode: StatusCodes.Status415UnsupportedMediaType));
        }

        var bytes = buffer.AsMemory(0, length);
        if (bytes.Span.Trim(" \t\r\n"u8).IsEmpty)
        {
            return required ? (null, Invalid("body", $"A JSON body is required, with any of: {string.Join(", ", fields.Keys)}.")) : (null, null);
        }

        try
        {
            using var document = JsonDocument.Parse(bytes);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return (null, Invalid("body", $"The body must be a JSON object with any of: {string.Join(", ", fields.Keys)}."));
            }
        }
        catch (JsonException e)
        {
            return (null, Invalid("body", $"The body is not valid JSON: {e.Message}"));
        }

        try
        {
            return (JsonSerializer.Deserialize<T>(bytes.Span, BodyOptions), null);
        }
        catch (JsonException e)
        {
            var property = e.Path is { Length: > 2 } path && path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : "body";
            return fields.TryGetValue(property, out var expected)
                ? (null, Invalid(property, $"'{property}' must be {expected}."))
                : (null, Invalid(property, $"'{property}' is not a known property; known: {string.Join(", ", fields.Keys)}."));
        }
    }

    private static ProblemHttpResult TooLarge() => TypedResults.Problem(
        title: "The body is too large",
        detail: $"The body is larger than {MaxBodyBytes} bytes.",
        statusCode: StatusCodes.Status413PayloadTooLarge);

    private static ValidationProblem Invalid(string field, string message) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] }, title: "The request is not valid");

    private static ProblemHttpResult NotReady(IngestReadiness readiness) =>
        Unavailable(readiness.Problem ?? "the stage is starting (preparing the run ledger)");

    private static ProblemHttpResult Unavailable(string reason) =>
        TypedResults.Problem(title: "The ingest stage is unavailable", detail: reason, statusCode: StatusCodes.Status503ServiceUnavailable);
}
