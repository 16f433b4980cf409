using System.Text.Json.Serialization;

namespace UserStream.Sink.Api;

/// <summary>The count endpoint's answer.</summary>
public sealed record UserCount(long Count);

/// <summary>The query endpoints' JSON: the contract's snake_case shape of <see cref="EnrichedUser"/>.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(EnrichedUser))]
[JsonSerializable(typeof(IReadOnlyList<EnrichedUser>))]
[JsonSerializable(typeof(UserCount))]
internal sealed partial class SinkJsonContext : JsonSerializerContext;
