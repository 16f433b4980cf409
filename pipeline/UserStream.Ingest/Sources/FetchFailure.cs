namespace UserStream.Ingest.Sources;

/// <summary>Why a fetch attempt failed. Codes appear in the ledger's error and as the metrics' <c>reason</c> tag.</summary>
internal enum FetchFailure
{
    /// <summary>The API answered with a non-2xx status.</summary>
    HttpStatus,

    /// <summary>No complete answer within the attempt timeout.</summary>
    Timeout,

    /// <summary>Connection refused, reset, or the body ended early.</summary>
    Network,

    /// <summary>The body carried randomuser's <c>{"error": "..."}</c>.</summary>
    ApiError,

    /// <summary>The body was not the expected JSON (e.g. truncated).</summary>
    MalformedJson,

    /// <summary>The body's <c>results</c> array was empty (as during the API's 2026 outage).</summary>
    EmptyResults,

    /// <summary>The body was larger than <c>Ingest:RandomUser:MaxResponseBytes</c> (declared or as it streamed in).</summary>
    ResponseTooLarge,
}

internal static class FetchFailureCodes
{
    public static string Code(this FetchFailure failure) => failure switch
    {
        FetchFailure.HttpStatus => "http_status",
        FetchFailure.Timeout => "timeout",
        FetchFailure.Network => "network",
        FetchFailure.ApiError => "api_error",
        FetchFailure.MalformedJson => "malformed_json",
        FetchFailure.EmptyResults => "empty_results",
        FetchFailure.ResponseTooLarge => "response_too_large",
        _ => "unknown",
    };
}

/// <summary>One attempt failed; <see cref="Retryable"/> says whether another attempt may help.</summary>
internal sealed class FetchAttemptException : Exception
{
    public FetchAttemptException(FetchFailure reason, string detail, bool retryable = true, TimeSpan? retryAfter = null, Exception? inner = null)
        : base(detail, inner)
    {
        Reason = reason;
        Retryable = retryable;
        RetryAfter = retryAfter;
    }

    public FetchFailure Reason { get; }
    public bool Retryable { get; } = true;
    public TimeSpan? RetryAfter { get; }
}

/// <summary>Every attempt to fetch a page failed; the run ends with this reason.</summary>
internal sealed class FetchFailedException : Exception
{
    public FetchFailedException(FetchFailure reason, string detail, int attempts, Exception? inner = null)
        : base($"{reason.Code()}: {detail} (after {attempts} attempt{(attempts == 1 ? "" : "s")})", inner)
    {
        Reason = reason;
        Attempts = attempts;
    }

    public FetchFailure Reason { get; }
    public int Attempts { get; }
}
