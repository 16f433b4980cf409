using System.Buffers.Text;

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
    public static Headers SetString(this Headers headers, string key, string value) =>
        headers.Replace(key, Encoding.UTF8.GetBytes(value));

    public static DateTimeOffset? GetTimestamp(this Headers? headers, string key)
    {
        if (headers is null || !headers.TryGetLastBytes(key, out var bytes) || bytes is null)
        {
            return null;
        }

        if (TryParseUtcRoundTrip(bytes, out var utc))
        {
            return utc;
        }

        return DateTimeOffset.TryParse(Encoding.UTF8.GetString(bytes), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var value)
            ? value
            : null;
    }

    /// <summary>The value as round-trip text (<c>O</c>) of its UTC time, e.g. <c>2026-01-02T03:04:05.6780000Z</c>.</summary>
    public static Headers SetTimestamp(this Headers headers, string key, DateTimeOffset value)
    {
        Span<byte> text = stackalloc byte[64];
        return value.UtcDateTime.TryFormat(text, out var length, "O", CultureInfo.InvariantCulture)
            ? headers.Replace(key, text[..length].ToArray())
            : headers.SetString(key, value.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
    }

    /// <summary>Removes every header <paramref name="key"/> (when there is one), then adds <paramref name="value"/>.</summary>
    private static Headers Replace(this Headers headers, string key, byte[] value)
    {
        for (var i = 0; i < headers.Count; i++)
        {
            if (headers[i].Key == key)
            {
                headers.Remove(key);
                break;
            }
        }

        headers.Add(key, value);
        return headers;
    }

    /// <summary>
    /// The form <see cref="SetTimestamp"/> writes (<c>yyyy-MM-ddTHH:mm:ss.fffffffZ</c>, what every stage sends), read by
    /// the platform's UTF-8 parser of that round-trip form instead of the general one: the same value
    /// <see cref="DateTimeOffset.TryParse(string, IFormatProvider, DateTimeStyles, out DateTimeOffset)"/> gives it.
    /// False for anything else (the general parser decides).
    /// </summary>
    private static bool TryParseUtcRoundTrip(ReadOnlySpan<byte> text, out DateTimeOffset value)
    {
        value = default;
        return text.Length == 28 && text[^1] == 'Z'
            && Utf8Parser.TryParse(text, out value, out var consumed, 'O') && consumed == text.Length;
    }
}
