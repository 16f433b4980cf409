using System.Text.Json.Serialization;
using UserStream.Streaming.IO;

namespace UserStream.Streaming.Hosting;

/// <summary>Marks a <see cref="JsonBody{T}"/> parameter: the framework binds it through <see cref="JsonBody{T}.BindAsync"/>.</summary>
internal interface IJsonBody
{
    /// <summary>Why the body could not be read (413, 415, 400 naming the property), or null.</summary>
    IResult? Problem { get; }

    /// <summary>The body as read; null when it was empty or could not be read.</summary>
    object? Body { get; }
}

/// <summary>
/// A small JSON request body, bound by the framework (<see cref="BindAsync"/>, minimal APIs' custom binding): read
/// while streaming and never past <see cref="MaxBytes"/> (413), only as <c>application/json</c> (415), deserialized
/// strictly (no unknown properties, numbers as numbers) into <typeparamref name="T"/>. A body that cannot be read is
/// not an exception: it becomes <see cref="Problem"/>, a ProblemDetails naming the property at fault, which the
/// endpoint's <see cref="EndpointValidation.WithValidation{TBuilder}"/> answers. An empty body is
/// <see cref="Value"/> null.
/// </summary>
public sealed class JsonBody<T> : IJsonBody
    where T : class
{
    /// <summary>Largest body read, in bytes.</summary>
    public const int MaxBytes = 16 * 1024;

    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        NumberHandling = JsonNumberHandling.Strict,
    };

    private JsonBody(T? value, IResult? problem)
    {
        Value = value;
        Problem = problem;
    }

    /// <summary>The body; null when the request had none (or it could not be read: see <see cref="Problem"/>).</summary>
    public T? Value { get; }

    public IResult? Problem { get; }

    object? IJsonBody.Body => Value;

    /// <summary>The framework's binding hook (never fails: a body that cannot be read becomes <see cref="Problem"/>).</summary>
#pragma warning disable CA1000 // Minimal APIs find custom binding as a static BindAsync on the parameter's type.
    public static async ValueTask<JsonBody<T>?> BindAsync(HttpContext context, ParameterInfo parameter)
    {
        ArgumentNullException.ThrowIfNull(context);
        var request = context.Request;
        if (request.ContentLength > MaxBytes)
        {
            return new JsonBody<T>(null, TooLarge());
        }

        ReadOnlyMemory<byte>? read;
        try
        {
            read = await CappedRead.ReadAsync(request.Body, MaxBytes, request.ContentLength, context.RequestAborted);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return new JsonBody<T>(null, TooLarge());
        }

        if (read is not { } bytes)
        {
            return new JsonBody<T>(null, TooLarge());
        }

        if (bytes.Span.Trim(" \t\r\n"u8).IsEmpty)
        {
            return new JsonBody<T>(null, null);
        }

        if (!request.HasJsonContentType())
        {
            return new JsonBody<T>(null, TypedResults.Problem(
                title: "The body must be JSON",
                detail: $"Send the body as application/json (Content-Type was '{request.ContentType}').",
                statusCode: StatusCodes.Status415UnsupportedMediaType));
        }

        try
        {
            using var document = JsonDocument.Parse(bytes);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return new JsonBody<T>(null, EndpointValidation.Invalid("body", "The body must be a JSON object."));
            }
        }
        catch (JsonException e)
        {
            return new JsonBody<T>(null, EndpointValidation.Invalid("body", $"The body is not valid JSON: {e.Message}"));
        }

        try
        {
            return new JsonBody<T>(JsonSerializer.Deserialize<T>(bytes.Span, Options), null);
        }
        catch (JsonException e)
        {
            var property = e.Path is { Length: > 2 } path && path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : "body";
            var known = string.Join(", ", typeof(T).GetProperties().Select(p => JsonNamingPolicy.CamelCase.ConvertName(p.Name)));
            var isKnown = typeof(T).GetProperties().Any(p => string.Equals(p.Name, property, StringComparison.OrdinalIgnoreCase));
            return new JsonBody<T>(null, EndpointValidation.Invalid(
                property,
                isKnown ? $"'{property}' has a value of the wrong type or format." : $"'{property}' is not a known property; known: {known}."));
        }
    }

#pragma warning restore CA1000

    private static ProblemHttpResult TooLarge() => TypedResults.Problem(
        title: "The body is too large",
        detail: $"The body is larger than {MaxBytes} bytes.",
        statusCode: StatusCodes.Status413PayloadTooLarge);
}
