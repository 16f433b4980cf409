namespace UserStream.Process.DeadLettering;

/// <summary>
/// The dead letters of users_dlq for people: the newest (<c>GET /dead-letters</c>), counts by stage and code
/// (<c>GET /dead-letters/summary</c>), both bounded reads that commit nothing; and a replay of the selected ones to the
/// topic each came from, exactly once (<c>POST /dead-letters/replay</c>, API key when configured; 409 while one runs).
/// Bad values are answered 400 naming the field; Kafka unreachable 503; every error body is a ProblemDetails.
/// </summary>
internal static class DeadLetterEndpoints
{
    public const int DefaultLimit = 20;
    public const int MaxLimit = 500;
    public const int MaxTextLength = 200;
    public const long MaxReplay = 1_000_000;

    public static IEndpointRouteBuilder Map(IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/dead-letters").WithTags("Dead letters");
        group.MapGet("", ListAsync).WithName("ListDeadLetters").WithValidation();
        group.MapGet("/summary", SummarizeAsync).WithName("SummarizeDeadLetters");
        group.MapPost("/replay", ReplayAsync).WithName("ReplayDeadLetters").RequireApiKey().WithValidation();
        return endpoints;
    }

    private static async Task<IResult> ListAsync(
        [FromQuery, StringLength(MaxTextLength)] string? code,
        [FromQuery, StringLength(MaxTextLength)] string? stage,
        [FromQuery, Range(1, MaxLimit)] int? limit,
        DeadLetterReader reader,
        CancellationToken cancellationToken)
    {
        try
        {
            // librdkafka blocks: off the request thread.
            var page = await Task.Run(() => reader.List(new DeadLetterFilter(code, stage), limit ?? DefaultLimit, cancellationToken), cancellationToken);
            return TypedResults.Ok(page);
        }
        catch (Exception e) when (e is KafkaException or TimeoutException)
        {
            return Unavailable(reader.Topic, e);
        }
    }

    private static async Task<IResult> SummarizeAsync(DeadLetterReader reader, CancellationToken cancellationToken)
    {
        try
        {
            return TypedResults.Ok(await Task.Run(() => reader.Summarize(cancellationToken), cancellationToken));
        }
        catch (Exception e) when (e is KafkaException or TimeoutException)
        {
            return Unavailable(reader.Topic, e);
        }
    }

    private static async Task<IResult> ReplayAsync(
        JsonBody<ReplayRequestBody> body, DeadLetterReplayer replayer, IHostApplicationLifetime lifetime)
    {
        var asked = body.Value ?? new ReplayRequestBody();
        var request = new ReplayRequest(new DeadLetterFilter(asked.Code, asked.Stage, asked.From, asked.To), asked.Max ?? long.MaxValue);
        try
        {
            // Not cancelled when the caller goes away: what a replay commits is kept either way, so it runs to its end
            // (or until the service stops) and the next replay skips what it sent.
            var stopping = lifetime.ApplicationStopping;
            var result = await Task.Run(() => replayer.TryReplay(request, stopping), stopping);
            return result is null
                ? TypedResults.Problem(
                    title: "A replay is running",
                    detail: "Dead letters are replayed one replay at a time; this one was refused. Ask again when the running replay has answered.",
                    statusCode: StatusCodes.Status409Conflict)
                : TypedResults.Ok(result);
        }
        catch (DeadLetterReplayException e)
        {
            var progress = new Dictionary<string, object?> { ["progress"] = e.Progress };
            return e.Fenced
                ? TypedResults.Problem(
                    title: "Another replay took over",
                    detail: $"{e.Message} What this one sent before stays sent and is never sent again.",
                    statusCode: StatusCodes.Status409Conflict,
                    extensions: progress)
                : TypedResults.Problem(
                    title: "The replay stopped",
                    detail: $"{e.Message} What it sent before stays sent; ask again to send the rest (nothing is sent twice).",
                    statusCode: StatusCodes.Status503ServiceUnavailable,
                    extensions: progress);
        }
    }

    private static ProblemHttpResult Unavailable(string topic, Exception e) => TypedResults.Problem(
        title: "The dead letters cannot be read",
        detail: $"{topic}: {(e is KafkaException k ? k.Error.Reason : e.Message)}",
        statusCode: StatusCodes.Status503ServiceUnavailable);
}
