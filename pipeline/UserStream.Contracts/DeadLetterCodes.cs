namespace UserStream.Contracts;

/// <summary>
/// The stable codes of the <c>dlq-error-code</c> header (<see cref="DeadLetterHeaders.ErrorCode"/>), of both stages
/// that dead-letter. Dashboards, the dead-letter API and replays key on them: never rename one, only add.
/// </summary>
public static class DeadLetterCodes
{
    /// <summary>The value is null or zero bytes.</summary>
    public const string Empty = "empty";

    /// <summary>The value is larger than <c>Process:Validation:MaxRecordBytes</c>.</summary>
    public const string TooLarge = "too_large";

    /// <summary>The value is not valid UTF-8, or a JSON string escapes an invalid UTF-16 sequence.</summary>
    public const string NotUtf8 = "not_utf8";

    /// <summary>The value is not well-formed JSON.</summary>
    public const string NotJson = "not_json";

    /// <summary>The value is JSON, but not an object (an array, a string, a number, null...).</summary>
    public const string NotObject = "not_object";

    /// <summary>Something follows the JSON object.</summary>
    public const string TrailingData = "trailing_data";

    /// <summary>Objects and arrays nest deeper than <c>Process:Validation:MaxDepth</c>.</summary>
    public const string TooDeep = "too_deep";

    /// <summary>An object has the same property twice (which one would count is ambiguous).</summary>
    public const string DuplicateProperty = "duplicate_property";

    /// <summary>A required field is absent, null, or (names) blank. The sink uses it too, for a users_enriched field.</summary>
    public const string MissingField = "missing_field";

    /// <summary>A field has a JSON type it never has (e.g. name.first is a number, location is a string).</summary>
    public const string WrongType = "wrong_type";

    /// <summary>A text field is longer than <c>Process:Validation:MaxFieldLength</c>.</summary>
    public const string FieldTooLong = "field_too_long";

    /// <summary>login.uuid is not a UUID.</summary>
    public const string InvalidId = "invalid_id";

    /// <summary>The record's key is absent or is not the user's login.uuid.</summary>
    public const string KeyMismatch = "key_mismatch";

    /// <summary>A date is not ISO-8601, does not exist, lies in the future or before the earliest accepted date.</summary>
    public const string InvalidDate = "invalid_date";

    /// <summary>A field has the right type but an impossible value (email without domain, latitude 200, control characters...).</summary>
    public const string InvalidValue = "invalid_value";

    /// <summary>The record passed validation but could not be transformed (a defect of this stage, kept rather than crash-looping).</summary>
    public const string ProcessingFailed = "processing_failed";

    /// <summary>The sink: the record has no value.</summary>
    public const string EmptyValue = "empty_value";

    /// <summary>The sink: the value is not a users_enriched JSON object.</summary>
    public const string DeserializationFailed = "deserialization_failed";

    /// <summary>The sink: the value's schema version is not the one this sink reads.</summary>
    public const string UnsupportedSchemaVersion = "unsupported_schema_version";

    /// <summary>The sink: the store refused the record alone, repeatedly, while it answered its probe (the store's error in the reason).</summary>
    public const string StoreRejected = "store_rejected";

    /// <summary>Every code the process stage writes, for documentation and tests.</summary>
    public static readonly IReadOnlyList<string> Process =
    [
        Empty, TooLarge, NotUtf8, NotJson, NotObject, TrailingData, TooDeep, DuplicateProperty, MissingField,
        WrongType, FieldTooLong, InvalidId, KeyMismatch, InvalidDate, InvalidValue, ProcessingFailed,
    ];

    /// <summary>Every code the sink stage writes, for documentation and tests.</summary>
    public static readonly IReadOnlyList<string> Sink = [EmptyValue, DeserializationFailed, UnsupportedSchemaVersion, MissingField, StoreRejected];
}

/// <summary>The stage names written into <c>dlq-stage</c> (<see cref="DeadLetterHeaders.Stage"/>).</summary>
public static class DeadLetterStages
{
    public const string Process = "process";
    public const string Sink = "sink";
}

/// <summary>Names of the tables the pipeline writes (PostgreSQL and Cassandra alike).</summary>
public static class TableNames
{
    /// <summary>The stored users (the sink's store): one row per user, its latest version.</summary>
    public const string CreatedUsers = "created_users";
}
