using System.Net;
using Polly.Timeout;
using UserStream.Streaming.IO;

namespace UserStream.Ingest.Sources.RandomUser;

/// <summary>
/// Fetches pages of users from the randomuser API (typed HttpClient, so the host's HttpClient defaults
/// such as service discovery apply). Each page is one call with <c>results</c>, <c>seed</c> and
/// <c>page</c> (deterministic paging) plus the configured <c>nat</c>/<c>inc</c>/<c>exc</c>. A failed
/// attempt (non-2xx, timeout, network error, <c>error</c> body, malformed JSON, empty results) is retried
/// with exponential backoff and jitter; when every attempt failed the page fails with the last reason.
/// </summary>
internal sealed partial class RandomUserClient : IUserSource
{
    private readonly HttpClient _http;
    private readonly RandomUserOptions _options;
    private readonly IngestMetrics _metrics;
    private readonly StageTelemetry _telemetry;
    private readonly ILogger<RandomUserClient> _logger;
    private readonly ResiliencePipeline _pipeline;

    public RandomUserClient(
        HttpClient http, IOptions<IngestOptions> options, IngestMetrics metrics, StageTelemetry telemetry,
        TimeProvider timeProvider, ILogger<RandomUserClient> logger)
    {
        _http = http;
        _options = options.Value.RandomUser;
        _metrics = metrics;
        _telemetry = telemetry;
        _logger = logger;
        _pipeline = BuildPipeline(_options, timeProvider);
    }

    public string Name => SourceNames.RandomUser;

    public async Task<UserPage> FetchAsync(PageRequest request, CancellationToken cancellationToken)
    {
        var uri = RequestUri(request);
        using var activity = _telemetry.Source.StartActivity("fetch randomuser", ActivityKind.Client);
        activity?.SetTag("userstream.page", request.Page);
        activity?.SetTag("userstream.results", request.Results);
        activity?.SetTag("url.full", uri.ToString());

        var attempts = 0;
        try
        {
            var users = await _pipeline.ExecuteAsync(
                async token =>
                {
                    attempts++;
                    _metrics.FetchAttempt(Name);
                    try
                    {
                        return await AttemptAsync(uri, token);
                    }
                    catch (FetchAttemptException e)
                    {
                        Failed(activity, attempts, e.Reason, e.Message);
                        throw;
                    }
                    catch (OperationCanceledException) when (token.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                    {
                        Failed(activity, attempts, FetchFailure.Timeout, $"no complete answer within {_options.AttemptTimeout}");
                        throw;
                    }
                },
                cancellationToken);
            activity?.SetTag("userstream.attempts", attempts);
            return new UserPage(users, attempts);
        }
        catch (FetchAttemptException e)
        {
            activity?.SetStatus(ActivityStatusCode.Error, e.Message);
            throw new FetchFailedException(e.Reason, e.Message, attempts, e);
        }
        catch (TimeoutRejectedException e)
        {
            activity?.SetStatus(ActivityStatusCode.Error, "timeout");
            throw new FetchFailedException(FetchFailure.Timeout, $"no complete answer within {_options.AttemptTimeout}", attempts, e);
        }
    }

    private void Failed(Activity? activity, int attempt, FetchFailure reason, string detail)
    {
        _metrics.FetchFailed(Name, reason.Code());
        activity?.AddEvent(new ActivityEvent("attempt failed", tags: new ActivityTagsCollection
        {
            ["userstream.attempt"] = attempt,
            ["userstream.reason"] = reason.Code(),
        }));
        LogAttemptFailed(_logger, attempt, reason.Code(), detail);
    }

    /// <summary>One call: the status must be 2xx, the whole body must arrive in time and parse.</summary>
    private async ValueTask<IReadOnlyList<FetchedUser>> AttemptAsync(Uri uri, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await _http.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            throw new FetchAttemptException(FetchFailure.Network, $"the call failed: {e.Message}", inner: e);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            // HttpClient.Timeout (a backstop above the attempt timeout) fired.
            throw new FetchAttemptException(FetchFailure.Timeout, "the HTTP client timed out", inner: e);
        }

        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                var status = (int)response.StatusCode;
                var retryable = status >= 500 || response.StatusCode is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests;
                throw new FetchAttemptException(
                    FetchFailure.HttpStatus,
                    $"the API answered HTTP {status} {response.ReasonPhrase}",
                    retryable,
                    RetryAfter(response));
            }

            ReadOnlyMemory<byte> body;
            try
            {
                body = await ReadCappedAsync(response.Content, _options.MaxResponseBytes, cancellationToken);
            }
            catch (HttpRequestException e)
            {
                throw new FetchAttemptException(FetchFailure.Network, $"the body could not be read: {e.Message}", inner: e);
            }
            catch (IOException e)
            {
                throw new FetchAttemptException(FetchFailure.Network, $"the body could not be read: {e.Message}", inner: e);
            }
            catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
            {
                throw new FetchAttemptException(FetchFailure.Timeout, "the HTTP client timed out reading the body", inner: e);
            }

            return RandomUserResponseParser.Parse(body);
        }
    }

    /// <summary>The whole body, read while it streams in and never past <paramref name="cap"/> bytes.</summary>
    private static async Task<ReadOnlyMemory<byte>> ReadCappedAsync(HttpContent content, int cap, CancellationToken cancellationToken)
    {
        if (content.Headers.ContentLength is { } declared && declared > cap)
        {
            throw TooLarge($"the body declares {declared:N0} bytes");
        }

        await using var stream = await content.ReadAsStreamAsync(cancellationToken);
        return await CappedRead.ReadAsync(stream, cap, content.Headers.ContentLength, cancellationToken)
            ?? throw TooLarge($"the body exceeded {cap:N0} bytes as it streamed in");

        FetchAttemptException TooLarge(string what) => new(
            FetchFailure.ResponseTooLarge,
            $"{what}, over Ingest:RandomUser:MaxResponseBytes ({cap:N0}); raise it or lower Ingest:PageSize",
            retryable: false);
    }

    private Uri RequestUri(PageRequest request)
    {
        var query = new StringBuilder(_options.Path);
        query.Append(_options.Path.Contains('?', StringComparison.Ordinal) ? '&' : '?');
        query.Append(CultureInfo.InvariantCulture, $"results={request.Results}");
        query.Append(CultureInfo.InvariantCulture, $"&seed={Uri.EscapeDataString(request.Seed)}");
        query.Append(CultureInfo.InvariantCulture, $"&page={request.Page}");
        Append(query, "nat", _options.Nationalities);
        Append(query, "inc", _options.Include);
        Append(query, "exc", _options.Exclude);
        return new Uri(query.ToString(), UriKind.Relative);

        static void Append(StringBuilder query, string name, string? value)
        {
            if (!string.IsNullOrWhiteSpace(value))
            {
                query.Append('&').Append(name).Append('=').Append(Uri.EscapeDataString(value.Trim()));
            }
        }
    }

    private static TimeSpan? RetryAfter(HttpResponseMessage response) =>
        response.Headers.RetryAfter switch
        {
            { Delta: { } delta } => delta,
            { Date: { } date } => date - DateTimeOffset.UtcNow,
            _ => null,
        };

    private static ResiliencePipeline BuildPipeline(RandomUserOptions options, TimeProvider timeProvider)
    {
        var builder = new ResiliencePipelineBuilder { TimeProvider = timeProvider };
        if (options.MaxRetries > 0)
        {
            var retry = Backoff.Exponential("randomuser", options.RetryBaseDelay, options.RetryMaxDelay, options.MaxRetries, jitter: true);
            retry.ShouldHandle = new PredicateBuilder()
                .Handle<FetchAttemptException>(e => e.Retryable)
                .Handle<TimeoutRejectedException>();
            // randomuser's Retry-After, when it sends one, within the longest pause.
            retry.DelayGenerator = args =>
                ValueTask.FromResult(args.Outcome.Exception is FetchAttemptException { RetryAfter: { } after } && after > TimeSpan.Zero
                    ? (TimeSpan?)(after < options.RetryMaxDelay ? after : options.RetryMaxDelay)
                    : null);
            builder.AddRetry(retry);
        }

        return builder.AddTimeout(options.AttemptTimeout).Build();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "randomuser attempt {Attempt} failed ({Reason}): {Detail}")]
    private static partial void LogAttemptFailed(ILogger logger, int attempt, string reason, string detail);
}
