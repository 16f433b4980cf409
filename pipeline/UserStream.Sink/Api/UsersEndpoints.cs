namespace UserStream.Sink.Api;

/// <summary>
/// Read access to what the sink stored: <c>GET /users/{id}</c>, <c>GET /users?limit=N</c>, <c>GET /users/count</c>. The id and
/// the limit are bound and validated by the framework through the toolkit (<see cref="EndpointValidation.WithValidation{TBuilder}"/>):
/// a bad one is answered 400 naming it; a store that is down 503.
/// </summary>
public static class UsersEndpoints
{
    public const int DefaultLimit = 20;
    public const int MaxLimit = 1_000;

    public static IEndpointRouteBuilder Map(IEndpointRouteBuilder endpoints)
    {
        var users = endpoints.MapGroup("/users").WithTags("users");
        users.MapGet("/count", CountAsync);
        users.MapGet("/{id}", GetAsync).WithValidation();
        users.MapGet("/", ListAsync).WithValidation();
        return endpoints;
    }

    private static Task<IResult> GetAsync(Guid id, IUserStore store, CancellationToken cancellationToken) =>
        Guarded(store, async () =>
            await store.GetAsync(id, cancellationToken) is { } user
                ? Results.Json(user, SinkJsonContext.Default.EnrichedUser)
                : Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "User not found",
                    detail: $"No user {id} has been stored."));

    private static Task<IResult> ListAsync(
        [FromQuery, Range(1, MaxLimit)] int? limit, IUserStore store, CancellationToken cancellationToken) =>
        Guarded(store, async () =>
            Results.Json(await store.ListRecentAsync(limit ?? DefaultLimit, cancellationToken), SinkJsonContext.Default.IReadOnlyListEnrichedUser));

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
