using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using UserStream.Ingest.Sources;
using UserStream.Ingest.Sources.Generator;

namespace UserStream.Tests.Ingest.Support;

/// <summary>What the fake API answers to one request.</summary>
public enum FakeAnswerKind
{
    /// <summary>200 with the requested users (generated from the request's seed and page).</summary>
    Users,

    /// <summary>A bare status code (e.g. 500, 503).</summary>
    Status,

    /// <summary>Answers only after <see cref="FakeAnswer.Delay"/> (longer than the client's attempt timeout).</summary>
    Hang,

    /// <summary>200 with randomuser's <c>{"error": "..."}</c>.</summary>
    ErrorBody,

    /// <summary>200 with the users' JSON cut in the middle (complete HTTP message, incomplete JSON).</summary>
    Truncated,

    /// <summary>200 with <c>{"results": [], "info": {...}}</c>, as during the API's 2026 outage.</summary>
    EmptyResults,

    /// <summary>200 with a body of <see cref="FakeAnswer.Bytes"/> bytes (users repeated), chunked unless declared.</summary>
    Oversized,
}

public sealed record FakeAnswer(
    FakeAnswerKind Kind, int StatusCode = 200, TimeSpan Delay = default, int WithoutUuid = 0, long Bytes = 0, bool Declared = false)
{
    public static readonly FakeAnswer Users = new(FakeAnswerKind.Users);

    public static FakeAnswer Status(int code) => new(FakeAnswerKind.Status, code);

    public static FakeAnswer Hang(TimeSpan delay) => new(FakeAnswerKind.Hang, Delay: delay);

    public static readonly FakeAnswer ErrorBody = new(FakeAnswerKind.ErrorBody);
    public static readonly FakeAnswer Truncated = new(FakeAnswerKind.Truncated);
    public static readonly FakeAnswer EmptyResults = new(FakeAnswerKind.EmptyResults);

    /// <summary>Users, the first <paramref name="count"/> of them without login.uuid.</summary>
    public static FakeAnswer UsersWithoutUuid(int count) => new(FakeAnswerKind.Users, WithoutUuid: count);

    /// <summary>A body of <paramref name="bytes"/> bytes, streamed in chunks, its length declared by Content-Length or not.</summary>
    public static FakeAnswer Oversized(long bytes, bool declared) => new(FakeAnswerKind.Oversized, Bytes: bytes, Declared: declared);

    /// <summary>Users, after <paramref name="delay"/>.</summary>
    public static FakeAnswer SlowUsers(TimeSpan delay) => new(FakeAnswerKind.Users, Delay: delay);
}

/// <summary>A request the fake API received.</summary>
public sealed record FakeRequest(string Path, int Results, string Seed, int Page, string Query);

/// <summary>
/// A randomuser-shaped API on Kestrel at 127.0.0.1 (real sockets, so the client's real HTTP path and
/// timeouts are exercised). Answers are scripted per request, in order (<see cref="Enqueue"/>); when the
/// script is empty it answers <see cref="FakeAnswer.Users"/>. It records every request and the keys of
/// every user it served.
/// </summary>
public sealed class FakeRandomUserApi : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<FakeAnswer> _script = new();
    private readonly ConcurrentQueue<FakeRequest> _requests = new();
    private readonly ConcurrentQueue<string?> _servedKeys = new();
    private readonly UserGenerator _generator = UserGenerator.Create();

    private FakeRandomUserApi(WebApplication app) => _app = app;

    public Uri BaseAddress { get; private set; } = null!;

    public IReadOnlyList<FakeRequest> Requests => [.. _requests];

    /// <summary>login.uuid of every user served in a 200 answer with users (null for those served without).</summary>
    public IReadOnlyList<string?> ServedKeys => [.. _servedKeys];

    /// <summary>Called before answering each request (e.g. to inject a broker outage at page 2).</summary>
    public Func<FakeRequest, Task>? BeforeAnswer { get; set; }

    public static async Task<FakeRandomUserApi> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var api = new FakeRandomUserApi(app);
        // Load the generator's locales now, so that a first answer is not slowed by it.
        api._generator.Generate(new PageRequest("warm-up", 1, 200));
        app.Run(api.AnswerAsync);
        await app.StartAsync();
        api.BaseAddress = new Uri(app.Urls.Single().TrimEnd('/') + "/");
        return api;
    }

    public void Enqueue(params FakeAnswer[] answers)
    {
        foreach (var answer in answers)
        {
            _script.Enqueue(answer);
        }
    }

    private async Task AnswerAsync(HttpContext context)
    {
        var query = context.Request.Query;
        var request = new FakeRequest(
            context.Request.Path.Value ?? "",
            int.TryParse(query["results"], CultureInfo.InvariantCulture, out var results) ? results : 1,
            query["seed"].ToString(),
            int.TryParse(query["page"], CultureInfo.InvariantCulture, out var page) ? page : 1,
            context.Request.QueryString.Value ?? "");
        _requests.Enqueue(request);
        var answer = _script.TryDequeue(out var next) ? next : FakeAnswer.Users;
        var aborted = context.RequestAborted;

        try
        {
            if (BeforeAnswer is { } before)
            {
                await before(request);
            }

            if (answer.Delay > TimeSpan.Zero)
            {
                await Task.Delay(answer.Delay, aborted);
            }

            switch (answer.Kind)
            {
                case FakeAnswerKind.Status:
                    context.Response.StatusCode = answer.StatusCode;
                    await context.Response.WriteAsync($"<html>{answer.StatusCode}</html>", aborted);
                    return;
                case FakeAnswerKind.ErrorBody:
                    await WriteJsonAsync(context, """{"error":"Uh oh, something has gone wrong. Please tweet us @randomapi about the issue. Thank you."}"""u8.ToArray());
                    return;
                case FakeAnswerKind.EmptyResults:
                    await WriteJsonAsync(context, Encoding.UTF8.GetBytes(
                        $$$"""{"results":[],"info":{"seed":"{{{request.Seed}}}","results":{{{request.Results}}},"page":{{{request.Page}}},"version":"1.4"}}"""));
                    return;
                case FakeAnswerKind.Truncated:
                    var full = Body(request, [.. Users(request).Select(u => u.Json)]);
                    await WriteJsonAsync(context, full[..(full.Length / 2)]);
                    return;
                case FakeAnswerKind.Oversized:
                    await WriteOversizedAsync(context, request, answer);
                    return;
                case FakeAnswerKind.Hang:
                case FakeAnswerKind.Users:
                default:
                    var users = Users(request).ToList();
                    var bodies = new List<byte[]>(users.Count);
                    for (var i = 0; i < users.Count; i++)
                    {
                        if (i < answer.WithoutUuid)
                        {
                            bodies.Add(Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(users[i].Json).Replace($"\"uuid\":\"{users[i].Key}\",", "", StringComparison.Ordinal)));
                            _servedKeys.Enqueue(null);
                        }
                        else
                        {
                            bodies.Add(users[i].Json);
                            _servedKeys.Enqueue(users[i].Key);
                        }
                    }

                    await WriteJsonAsync(context, Body(request, bodies));
                    return;
            }
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The client gave up (its attempt timed out).
        }
    }

    private async Task WriteOversizedAsync(HttpContext context, FakeRequest request, FakeAnswer answer)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        if (answer.Declared)
        {
            context.Response.ContentLength = answer.Bytes;
        }

        var user = Users(request with { Results = 1 })[0].Json;
        var chunk = new byte[64 * 1024];
        var filled = 0;
        while (filled + user.Length + 1 <= chunk.Length)
        {
            user.CopyTo(chunk, filled);
            chunk[filled + user.Length] = (byte)',';
            filled += user.Length + 1;
        }

        chunk.AsSpan(filled).Fill((byte)' ');
        await context.Response.Body.WriteAsync("{\"results\":["u8.ToArray(), context.RequestAborted);
        // Kestrel completes writes to a connection the client closed without error: the flush result says so.
        for (var written = 12L; written < answer.Bytes; written += chunk.Length)
        {
            var length = (int)Math.Min(chunk.Length, answer.Bytes - written);
            var flushed = await context.Response.BodyWriter.WriteAsync(chunk.AsMemory(0, length), context.RequestAborted);
            if (flushed.IsCompleted || flushed.IsCanceled || context.RequestAborted.IsCancellationRequested)
            {
                return;
            }
        }
    }

    private IReadOnlyList<FetchedUser> Users(FakeRequest request) => _generator.Generate(new PageRequest(request.Seed, request.Page, request.Results));

    private static byte[] Body(FakeRequest request, List<byte[]> users)
    {
        using var body = new MemoryStream();
        body.Write("{\"results\":["u8);
        for (var i = 0; i < users.Count; i++)
        {
            if (i > 0)
            {
                body.WriteByte((byte)',');
            }

            body.Write(users[i]);
        }

        body.Write(Encoding.UTF8.GetBytes(
            $$$"""],"info":{"seed":"{{{request.Seed}}}","results":{{{users.Count}}},"page":{{{request.Page}}},"version":"1.4"}}"""));
        return body.ToArray();
    }

    private static async Task WriteJsonAsync(HttpContext context, byte[] body)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        context.Response.ContentLength = body.Length;
        await context.Response.Body.WriteAsync(body, context.RequestAborted);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
