namespace UserStream.Sink.Consuming;

/// <summary>Turns a <c>users_enriched</c> value into an <see cref="EnrichedUser"/>, or says why it cannot.</summary>
public static class RecordDecoder
{
    /// <summary>The user, or null with <paramref name="rejection"/> set.</summary>
    public static EnrichedUser? Decode(ConsumeResult<string, byte[]> record, out Rejection? rejection)
    {
        ArgumentNullException.ThrowIfNull(record);
        rejection = null;
        var value = record.Message.Value;
        if (value is null || value.Length == 0)
        {
            rejection = new Rejection(DeadLetterCodes.EmptyValue, "The record has no value (a users_enriched value is a JSON object).");
            return null;
        }

        EnrichedUser user;
        try
        {
            user = EnrichedUserJson.Deserialize(value);
        }
        catch (JsonException e)
        {
            rejection = new Rejection(DeadLetterCodes.DeserializationFailed, $"The value is not a users_enriched v{EnrichedUser.CurrentSchemaVersion} JSON object: {e.Message}");
            return null;
        }

        if (user.SchemaVersion != EnrichedUser.CurrentSchemaVersion)
        {
            rejection = new Rejection(
                DeadLetterCodes.UnsupportedSchemaVersion,
                $"schema_version {user.SchemaVersion} is not supported by this sink (it reads version {EnrichedUser.CurrentSchemaVersion}).");
            return null;
        }

        if (CreatedUsersColumns.FirstMissing(user) is { } missing)
        {
            rejection = new Rejection(DeadLetterCodes.MissingField, $"Field '{missing}' is null; users_enriched v{EnrichedUser.CurrentSchemaVersion} requires it.");
            return null;
        }

        return user;
    }
}
