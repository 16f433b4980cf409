namespace UserStream.Sink.Api;

/// <summary>Read access to what the sink stored: <c>GET /users/{id}</c>, <c>GET /users?limit=N</c>, <c>GET /users/count</c>.</summary>
public static class UsersEndpoints
{
    public const int DefaultLimit = 20;
    public const int MaxLimit = 1_000;

    public static IEndpointRouteBuilder Map(IEndpointRouteBuilder endpoints)
    {
        var users = endpoints.MapGroup("/users").WithTags("users");
        users.MapGet("/count", CountAsync);
        users.MapGet("/{id}", GetAsync);
        users.MapGet("/", ListAsync);
        return endpoints;
    }

    private static async Task<IResult> GetAsync(string id, IUserStore store, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(id, out var userId))
        {
            return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Invalid user id",
                detail: $"'{id}' is not a UUID.");
        }

        return await Guarded(store, async () =>
            await store.GetAsync(userId, cancellationToken) is { } user
                ? Results.Json(user, SinkJsonContext.Default.EnrichedUser)
                : Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "User not found",
                    detail: $"No user {userId} has been stored."));
    }

    private static async Task<IResult> ListAsync(HttpRequest request, IUserStore store, CancellationToken cancellationToken)
    {
        var limit = DefaultLimit;
        if (request.Query.TryGetValue("limit", out var raw)
            && (!int.TryParse(raw.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > MaxLimit))
        {
            return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Invalid limit",
                detail: $"limit must be a whole number from 1 to {MaxLimit}; got '{raw}'.");
        }

        return await Guarded(store, async () =>
            Results.Json(await store.ListRecentAsync(limit, cancellationToken), SinkJsonContext.Default.IReadOnlyListEnrichedUser));
    }

    private static Task<IResult> CountAsync(IUserStore store, CancellationToken cancellationToken) =>
        Guarded(store, async () => Results.Json(new UserCount(await store.CountAsync(cancellationToken)), SinkJsonContext.Default.UserCount));

    /// <summary>A store that is down answers 503 (try again), not 500.</summary>
    private static async Task<IResult> Guarded(IUserStore store, Func<Task<IResult>> query)
    {
        try
        {
            return await query();
        }
        catch (Exception e) when (e is not OperationCanceledException && store.IsTransient(e))
        {
            return Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Store unavailable",
                detail: "The store cannot be reached right now; try again shortly.");
        }
    }
}
