using System.Runtime.InteropServices;

namespace UserStream.Ingest.Sources.RandomUser;

/// <summary>
/// Reads a randomuser response body: each element of <c>results</c> is kept as the exact bytes the API
/// sent (no re-serialization), keyed by its <c>login.uuid</c>. A body carrying <c>error</c>, one that
/// is not complete JSON, or one whose <c>results</c> is missing or empty is a failed attempt.
/// </summary>
internal static class RandomUserResponseParser
{
    /// <summary>Most characters of the API's error message kept.</summary>
    private const int MaxErrorLength = 300;

    public static IReadOnlyList<FetchedUser> Parse(ReadOnlyMemory<byte> body)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException e)
        {
            throw new FetchAttemptException(
                FetchFailure.MalformedJson, $"the body ({body.Length} bytes) is not complete JSON: {e.Message}", inner: e);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new FetchAttemptException(FetchFailure.MalformedJson, $"the body is a JSON {root.ValueKind}, not an object");
            }

            if (root.TryGetProperty("error", out var error))
            {
                var message = error.ValueKind == JsonValueKind.String ? error.GetString() ?? "" : error.GetRawText();
                throw new FetchAttemptException(FetchFailure.ApiError, $"the API answered error '{Shorten(message)}'");
            }

            if (!root.TryGetProperty("results", out var results) || results.ValueKind != JsonValueKind.Array)
            {
                throw new FetchAttemptException(FetchFailure.MalformedJson, "the body has no 'results' array");
            }

            if (results.GetArrayLength() == 0)
            {
                throw new FetchAttemptException(FetchFailure.EmptyResults, "the API answered an empty 'results' array");
            }

            var users = new List<FetchedUser>(results.GetArrayLength());
            foreach (var result in results.EnumerateArray())
            {
                users.Add(new FetchedUser(KeyOf(result), JsonMarshal.GetRawUtf8Value(result).ToArray()));
            }

            return users;
        }
    }

    /// <summary>The user's <c>login.uuid</c> when it is a non-empty string; otherwise null.</summary>
    internal static string? KeyOf(JsonElement user) =>
        user.ValueKind == JsonValueKind.Object
        && user.TryGetProperty("login", out var login)
        && login.ValueKind == JsonValueKind.Object
        && login.TryGetProperty("uuid", out var uuid)
        && uuid.ValueKind == JsonValueKind.String
        && uuid.GetString() is { Length: > 0 } key
            ? key
            : null;

    private static string Shorten(string text) => text.Length <= MaxErrorLength ? text : text[..MaxErrorLength] + "…";
}
