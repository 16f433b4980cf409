using System.Text.Json;
using System.Text.Json.Serialization;

namespace UserStream.Contracts;

/// <summary>
/// One row of <c>created_users</c>: every column of the original Spark job's
/// <c>spark_streams.created_users</c> plus the enrichment. The value of <see cref="Topics.UsersEnriched"/>.
/// Strings are never null (absent source values become empty strings); fields that may be unknown are nullable.
/// </summary>
public sealed record EnrichedUser
{
    /// <summary>The schema version this type writes.</summary>
    public const int CurrentSchemaVersion = 1;

    public int SchemaVersion { get; init; } = CurrentSchemaVersion;

    // ---- the originals' columns ----
    /// <summary>login.uuid of the source user.</summary>
    public required Guid Id { get; init; }
    public required string FirstName { get; init; }
    public required string LastName { get; init; }
    public required string Gender { get; init; }
    /// <summary>"{street number} {street name}, {city}, {state}, {country}" as the originals built it.</summary>
    public required string Address { get; init; }
    public required string PostCode { get; init; }
    public required string Email { get; init; }
    public required string Username { get; init; }
    public required DateTimeOffset Dob { get; init; }
    public required DateTimeOffset RegisteredDate { get; init; }
    public required string Phone { get; init; }
    /// <summary>URL of the medium-size picture.</summary>
    public required string Picture { get; init; }

    // ---- enrichment ----
    public required string FullName { get; init; }
    /// <summary>Age in whole years at <see cref="ProcessedAt"/>.</summary>
    public required int Age { get; init; }
    /// <summary>One of <see cref="AgeBands"/>.</summary>
    public required string AgeBand { get; init; }
    /// <summary>randomuser's <c>nat</c> (ISO 3166-1 alpha-2, upper case), empty when absent.</summary>
    public required string Nationality { get; init; }
    /// <summary>Lower-cased domain part of the email.</summary>
    public required string EmailDomain { get; init; }
    /// <summary>Timezone offset as "+hh:mm"/"-hh:mm", null when absent or malformed.</summary>
    public string? TimezoneOffset { get; init; }
    public double? Latitude { get; init; }
    public double? Longitude { get; init; }
    /// <summary>The phone number's digits only.</summary>
    public required string PhoneDigits { get; init; }
    /// <summary>When the ingestor fetched the user (the event time).</summary>
    public required DateTimeOffset IngestedAt { get; init; }
    /// <summary>When the processor produced this record.</summary>
    public required DateTimeOffset ProcessedAt { get; init; }
    /// <summary>Id of the ingestion run, null when the record carried none.</summary>
    public string? RunId { get; init; }
}

/// <summary>The age bands of <see cref="EnrichedUser.AgeBand"/>.</summary>
public static class AgeBands
{
    public static readonly IReadOnlyList<string> All = ["0-17", "18-24", "25-34", "35-44", "45-54", "55-64", "65+"];

    public static string Of(int age) => age switch
    {
        < 18 => "0-17",
        < 25 => "18-24",
        < 35 => "25-34",
        < 45 => "35-44",
        < 55 => "45-54",
        < 65 => "55-64",
        _ => "65+",
    };
}

/// <summary>The JSON form of <see cref="EnrichedUser"/> on the wire (snake_case, source-generated).</summary>
public static class EnrichedUserJson
{
    public static byte[] Serialize(EnrichedUser user) =>
        JsonSerializer.SerializeToUtf8Bytes(user, ContractsJsonContext.Default.EnrichedUser);

    /// <summary>Reads a users_enriched value; throws <see cref="JsonException"/> when it is not one.</summary>
    public static EnrichedUser Deserialize(ReadOnlySpan<byte> utf8Json) =>
        JsonSerializer.Deserialize(utf8Json, ContractsJsonContext.Default.EnrichedUser)
        ?? throw new JsonException("users_enriched value is JSON null");
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    NumberHandling = JsonNumberHandling.Strict,
    AllowDuplicateProperties = false)]
[JsonSerializable(typeof(EnrichedUser))]
internal sealed partial class ContractsJsonContext : JsonSerializerContext;
