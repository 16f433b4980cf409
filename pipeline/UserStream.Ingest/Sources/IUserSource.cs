namespace UserStream.Ingest.Sources;

/// <summary>One page to fetch: the run's seed, the 1-based page number and how many users.</summary>
internal sealed record PageRequest(string Seed, int Page, int Results);

/// <summary>
/// One user as fetched: its JSON exactly as the source gave it (never re-serialized) and its key, the
/// user's <c>login.uuid</c>, or null when the user has none (it is still produced; the processor
/// dead-letters it with the reason).
/// </summary>
internal sealed record FetchedUser(string? Key, byte[] Json);

/// <summary>A fetched page and the attempts it took.</summary>
internal sealed record UserPage(IReadOnlyList<FetchedUser> Users, int Attempts);

/// <summary>Where users come from: the randomuser API or the generator.</summary>
internal interface IUserSource
{
    /// <summary>Value of the <c>userstream-source</c> header: <c>randomuser</c> or <c>generator</c>.</summary>
    string Name { get; }

    /// <summary>Fetches one page; throws <see cref="FetchFailedException"/> when every attempt failed.</summary>
    Task<UserPage> FetchAsync(PageRequest request, CancellationToken cancellationToken);
}

/// <summary>Source names, as written in the header and the ledger.</summary>
internal static class SourceNames
{
    public const string RandomUser = "randomuser";
    public const string Generator = "generator";

    public static string Of(IngestSourceKind kind) => kind == IngestSourceKind.Generator ? Generator : RandomUser;
}
