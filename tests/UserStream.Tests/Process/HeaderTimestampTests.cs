namespace UserStream.Tests.Process;

/// <summary>
/// The time headers every stage writes and reads (<c>userstream-ingested-at</c>, <c>dlq-failed-at</c>): the stages'
/// own form is read by a fast path, which must give exactly what the general parser gives, to the tick.
/// </summary>
public sealed class HeaderTimestampTests
{
    private const string Key = "userstream-test-at";

    public static TheoryData<string> Values => new()
    {
        "2026-01-02T03:04:05.6789012Z",
        "2026-12-31T23:59:59.9999999+02:00",
        "2024-02-29T00:00:00.0000001Z",
        "0001-01-01T00:00:00.0000000Z",
        "9999-12-31T23:59:59.9999999Z",
    };

    [Theory]
    [MemberData(nameof(Values))]
    public void A_written_time_reads_back_to_the_tick_in_UTC(string text)
    {
        var value = DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);

        var read = new Headers().SetTimestamp(Key, value).GetTimestamp(Key);

        Assert.Equal((value.UtcTicks, TimeSpan.Zero), (read?.UtcTicks, read?.Offset));
    }

    public static TheoryData<string> OtherForms => new()
    {
        "2026-01-02T03:04:05Z",
        "2026-01-02T03:04:05.123456Z",
        "2026-01-02T03:04:05.1234567+02:00",
        "2026-01-02T03:04:05.1234567",
        "2026-02-30T00:00:00.0000000Z",
        "2026-01-02T24:00:00.0000000Z",
        "2026-13-02T03:04:05.1234567Z",
        "2026-01-02T03:04:05.123456xZ",
        "yesterday",
        "",
    };

    [Theory]
    [MemberData(nameof(OtherForms))]
    public void Any_other_text_reads_as_the_general_parser_reads_it(string text)
    {
        var headers = new Headers();
        headers.Add(Key, Encoding.UTF8.GetBytes(text));
        DateTimeOffset? expected = DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var parsed)
            ? parsed
            : null;

        var read = headers.GetTimestamp(Key);

        Assert.Equal((expected?.UtcTicks, expected?.Offset), (read?.UtcTicks, read?.Offset));
    }
}
