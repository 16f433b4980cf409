using System.ComponentModel;
using Microsoft.AspNetCore.Http.Metadata;

namespace UserStream.Streaming.Hosting;

/// <summary>
/// Answers with ProblemDetails what minimal APIs' binding leaves as a bare status, and validates what they bound with
/// the data annotations on the handler's parameters and on the bound types (including <see cref="IValidatableObject"/>).
/// </summary>
public static class EndpointValidation
{
    /// <summary>
    /// Lets <see cref="WithValidation{TBuilder}"/> answer binding failures in every environment: minimal APIs throw
    /// them as exceptions in Development (<see cref="RouteHandlerOptions.ThrowOnBadRequest"/>), before any filter runs.
    /// </summary>
    public static IServiceCollection AddEndpointValidation(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = false);
        return services;
    }

    /// <summary>
    /// On these endpoints: a query or route value the framework could not bind to its parameter's type (its bare 400)
    /// becomes a 400 validation problem naming the parameter; a <see cref="JsonBody{T}"/> that could not be read is
    /// answered with its problem (400 naming the property, 413, 415); a bound value that breaks a
    /// <see cref="ValidationAttribute"/> on its parameter, or whose body breaks one on its type, a 400 validation
    /// problem naming it. Add it after filters that must run first (such as <see cref="ApiKeyProtection.RequireApiKey{TBuilder}"/>).
    /// </summary>
    public static TBuilder WithValidation<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddEndpointFilterFactory((factory, next) =>
        {
            var parameters = factory.MethodInfo.GetParameters();
            return async context =>
            {
                if (context.HttpContext.Response.StatusCode == StatusCodes.Status400BadRequest)
                {
                    return Invalid(Unbound(parameters, context.HttpContext.Request));
                }

                var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
                for (var i = 0; i < parameters.Length && i < context.Arguments.Count; i++)
                {
                    var argument = context.Arguments[i];
                    if (argument is IJsonBody body)
                    {
                        if (body.Problem is { } problem)
                        {
                            return problem;
                        }

                        Validate(body.Body, errors);
                        continue;
                    }

                    var name = NameOf(parameters[i]);
                    foreach (var attribute in parameters[i].GetCustomAttributes<ValidationAttribute>())
                    {
                        var result = attribute.GetValidationResult(argument, new ValidationContext(argument ?? new object()) { MemberName = name, DisplayName = name });
                        if (result is not null && result != ValidationResult.Success)
                        {
                            errors[name] = [result.ErrorMessage ?? $"'{name}' is not valid."];
                        }
                    }
                }

                return errors.Count > 0 ? Invalid(errors) : await next(context);
            };
        });
    }

    /// <summary>A 400 validation problem naming <paramref name="field"/>.</summary>
    public static ValidationProblem Invalid(string field, string message) =>
        Invalid(new Dictionary<string, string[]> { [field] = [message] });

    private static ValidationProblem Invalid(Dictionary<string, string[]> errors) =>
        TypedResults.ValidationProblem(errors, title: "The request is not valid");

    /// <summary>Data annotations of a bound body (its properties and <see cref="IValidatableObject.Validate"/>), keyed by the JSON property name.</summary>
    private static void Validate(object? value, Dictionary<string, string[]> errors)
    {
        if (value is null)
        {
            return;
        }

        var results = new List<ValidationResult>();
        if (!Validator.TryValidateObject(value, new ValidationContext(value), results, validateAllProperties: true))
        {
            foreach (var result in results)
            {
                foreach (var member in result.MemberNames.DefaultIfEmpty("body"))
                {
                    var field = JsonName(member);
                    errors[field] = [.. errors.GetValueOrDefault(field, []), result.ErrorMessage ?? $"'{field}' is not valid."];
                }
            }
        }
    }

    /// <summary>The parameters whose given value the framework could not convert to their type.</summary>
    private static Dictionary<string, string[]> Unbound(ParameterInfo[] parameters, HttpRequest request)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        foreach (var parameter in parameters)
        {
            var name = NameOf(parameter);
            var raw = request.Query.TryGetValue(name, out var query) ? query.ToString()
                : request.RouteValues.TryGetValue(name, out var route) ? Convert.ToString(route, CultureInfo.InvariantCulture)
                : null;
            var type = Nullable.GetUnderlyingType(parameter.ParameterType) ?? parameter.ParameterType;
            if (string.IsNullOrEmpty(raw) || type == typeof(string))
            {
                continue;
            }

            var converter = TypeDescriptor.GetConverter(type);
            bool valid;
            try
            {
                valid = converter.CanConvertFrom(typeof(string)) && converter.ConvertFromInvariantString(raw) is not null;
            }
            catch (Exception e) when (e is FormatException or NotSupportedException or ArgumentException or OverflowException)
            {
                valid = false;
            }

            if (!valid)
            {
                errors[name] = [$"'{raw}' is not {Describe(type)}."];
            }
        }

        if (errors.Count == 0)
        {
            errors["request"] = ["A value of the request could not be read."];
        }

        return errors;
    }

    private static string Describe(Type type) =>
        type == typeof(int) || type == typeof(long) ? "a whole number"
        : type == typeof(DateTimeOffset) || type == typeof(DateTime) ? "a date and time (ISO 8601, e.g. 2026-01-31T12:00:00Z)"
        : type == typeof(bool) ? "true or false"
        : type == typeof(Guid) ? "a UUID"
        : $"a {type.Name}";

    private static string NameOf(ParameterInfo parameter) =>
        parameter.GetCustomAttributes().OfType<IFromQueryMetadata>().FirstOrDefault()?.Name
        ?? parameter.GetCustomAttributes().OfType<IFromRouteMetadata>().FirstOrDefault()?.Name
        ?? parameter.Name
        ?? "value";

    private static string JsonName(string member) =>
        member.Length > 0 && char.IsUpper(member[0]) ? char.ToLowerInvariant(member[0]) + member[1..] : member;
}
