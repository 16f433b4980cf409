using System.Security.Cryptography;

namespace UserStream.Streaming.Hosting;

/// <summary>The key that mutating endpoints require. Section <c>Api</c>, validated at startup.</summary>
public sealed class ApiKeyOptions : IValidatableObject
{
    public const string SectionName = "Api";

    /// <summary>The request header that carries the key.</summary>
    public const string HeaderName = ApiKeys.Header;

    /// <summary>
    /// When set, every mutating endpoint (<see cref="ApiKeyProtection.RequireApiKey{TBuilder}"/>) requires it in
    /// <see cref="HeaderName"/>: 401 without it, 403 with another. Empty: no key is required (a service reachable only
    /// from a trusted network). The AppHost generates one as a secret parameter (<c>api-key</c>).
    /// </summary>
    public string Key { get; set; } = "";

    /// <summary>Fewest characters of a configured key.</summary>
    public const int MinKeyLength = 16;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Key.Length is > 0 and < MinKeyLength)
        {
            yield return new ValidationResult($"Api:Key must be at least {MinKeyLength} characters when set (or empty: no key required).", [nameof(Key)]);
        }
    }
}

/// <summary>Protects endpoints with the API key of <see cref="ApiKeyOptions"/>.</summary>
public static class ApiKeyProtection
{
    /// <summary>Registers <see cref="ApiKeyOptions"/> (section <c>Api</c>, validated at startup). Safe to call more than once.</summary>
    public static IServiceCollection AddApiKeyProtection(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddValidatedOptions<ApiKeyOptions>(configuration, ApiKeyOptions.SectionName);
        return services;
    }

    /// <summary>
    /// Requires the configured API key on these endpoints (a route group or one endpoint): a missing key is answered
    /// 401, a wrong one 403, both as ProblemDetails; nothing is required while no key is configured.
    /// </summary>
    public static TBuilder RequireApiKey<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            var configured = http.RequestServices.GetRequiredService<IOptions<ApiKeyOptions>>().Value.Key;
            if (configured.Length == 0)
            {
                return await next(context);
            }

            if (!http.Request.Headers.TryGetValue(ApiKeyOptions.HeaderName, out var given) || given.Count != 1 || string.IsNullOrEmpty(given[0]))
            {
                http.Response.Headers.WWWAuthenticate = "ApiKey header=\"" + ApiKeyOptions.HeaderName + "\"";
                return TypedResults.Problem(
                    title: "An API key is required",
                    detail: $"This endpoint changes the pipeline: send the API key in the {ApiKeyOptions.HeaderName} header.",
                    statusCode: StatusCodes.Status401Unauthorized);
            }

            return Matches(given[0]!, configured)
                ? await next(context)
                : TypedResults.Problem(
                    title: "The API key is not valid",
                    detail: $"The key in the {ApiKeyOptions.HeaderName} header is not this service's.",
                    statusCode: StatusCodes.Status403Forbidden);
        });
    }

    /// <summary>Compares in constant time (over the keys' hashes, so the length does not show either).</summary>
    private static bool Matches(string given, string configured) =>
        CryptographicOperations.FixedTimeEquals(
            SHA256.HashData(Encoding.UTF8.GetBytes(given)), SHA256.HashData(Encoding.UTF8.GetBytes(configured)));
}
