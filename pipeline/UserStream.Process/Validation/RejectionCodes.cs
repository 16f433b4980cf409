namespace UserStream.Process.Validation;

/// <summary>
/// The stable codes of the <c>dlq-error-code</c> header written by the process stage. Dashboards and
/// replay tools key on them: never rename one, only add.
/// </summary>
public static class RejectionCodes
{
    /// <summary>The value is null or zero bytes.</summary>
    public const string Empty = "empty";

    /// <summary>The value is larger than <see cref="ValidationOptions.MaxRecordBytes"/>.</summary>
    public const string TooLarge = "too_large";

    /// <summary>The value is not valid UTF-8, or a JSON string escapes an invalid UTF-16 sequence.</summary>
    public const string NotUtf8 = "not_utf8";

    /// <summary>The value is not well-formed JSON.</summary>
    public const string NotJson = "not_json";

    /// <summary>The value is JSON, but not an object (an array, a string, a number, null...).</summary>
    public const string NotObject = "not_object";

    /// <summary>Something follows the JSON object.</summary>
    public const string TrailingData = "trailing_data";

    /// <summary>Objects and arrays nest deeper than <see cref="ValidationOptions.MaxDepth"/>.</summary>
    public const string TooDeep = "too_deep";

    /// <summary>An object has the same property twice (which one would count is ambiguous).</summary>
    public const string DuplicateProperty = "duplicate_property";

    /// <summary>A required field is absent, null, or (names) blank.</summary>
    public const string MissingField = "missing_field";

    /// <summary>A field has a JSON type it never has (e.g. name.first is a number, location is a string).</summary>
    public const string WrongType = "wrong_type";

    /// <summary>A text field is longer than <see cref="ValidationOptions.MaxFieldLength"/>.</summary>
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

    /// <summary>Every code, for documentation and tests.</summary>
    public static readonly IReadOnlyList<string> All =
    [
        Empty, TooLarge, NotUtf8, NotJson, NotObject, TrailingData, TooDeep, DuplicateProperty, MissingField,
        WrongType, FieldTooLong, InvalidId, KeyMismatch, InvalidDate, InvalidValue, ProcessingFailed,
    ];
}
