using Microsoft.AspNetCore.Builder;
using System.Reflection;

namespace UserStream.StageRunner;

/// <summary>
/// A stage's public face found by name: <c>Add{Stage}Stage(IHostApplicationBuilder)</c> and, when it has
/// one, <c>Map{Stage}Endpoints(IEndpointRouteBuilder)</c>, both in assembly <c>UserStream.{Stage}</c>.
/// Looked up by reflection so that the runner builds whichever stages exist yet.
/// </summary>
internal sealed record StageEntryPoints(Action<WebApplicationBuilder> AddStage, Action<WebApplication>? MapEndpoints)
{
    public static readonly IReadOnlyList<string> Known = ["ingest", "process", "sink"];

    public static StageEntryPoints For(string stage)
    {
        var name = char.ToUpperInvariant(stage[0]) + stage[1..].ToLowerInvariant();
        var assembly = Assembly.Load($"UserStream.{name}");
        var methods = assembly.GetExportedTypes()
            .Where(t => t is { IsAbstract: true, IsSealed: true })
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Static))
            .ToList();

        var add = methods.FirstOrDefault(m => m.Name == $"Add{name}Stage" && TakesOnly<WebApplicationBuilder>(m))
            ?? throw new InvalidOperationException($"UserStream.{name} has no public static Add{name}Stage(IHostApplicationBuilder).");
        var map = methods.FirstOrDefault(m => m.Name == $"Map{name}Endpoints" && TakesOnly<WebApplication>(m));

        return new StageEntryPoints(
            builder => add.Invoke(null, [builder]),
            map is null ? null : app => map.Invoke(null, [app]));
    }

    /// <summary>The method's one parameter accepts a <typeparamref name="T"/>.</summary>
    private static bool TakesOnly<T>(MethodInfo method) =>
        method.GetParameters() is [var only] && only.ParameterType.IsAssignableFrom(typeof(T));
}
