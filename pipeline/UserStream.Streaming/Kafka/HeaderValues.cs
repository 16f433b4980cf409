namespace UserStream.Streaming.Kafka;

/// <summary>Reads and writes the pipeline's text headers (UTF-8).</summary>
public static class HeaderValues
{
    /// <summary>The last value of header <paramref name="key"/> as text, or null.</summary>
    public static string? GetString(this Headers? headers, string key) =>
        headers is not null && headers.TryGetLastBytes(key, out var bytes) && bytes is not null
            ? Encoding.UTF8.GetString(bytes)
            : null;

    /// <summary>Replaces header <paramref name="key"/> with <paramref name="value"/>.</summary>
    public static Headers SetString(this Headers headers, string key, string value)
    {
        headers.Remove(key);
        headers.Add(key, Encoding.UTF8.GetBytes(value));
        return headers;
    }

    public static DateTimeOffset? GetTimestamp(this Headers? headers, string key) =>
        DateTimeOffset.TryParse(headers.GetString(key), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var value)
            ? value
            : null;

    public static Headers SetTimestamp(this Headers headers, string key, DateTimeOffset value) =>
        headers.SetString(key, value.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
}
