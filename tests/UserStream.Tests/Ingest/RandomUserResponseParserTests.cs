using UserStream.Ingest.Sources;
using UserStream.Ingest.Sources.RandomUser;

namespace UserStream.Tests.Ingest;

/// <summary>What counts as a good randomuser answer, and that its users are kept byte for byte.</summary>
public sealed class RandomUserResponseParserTests
{
    [Fact]
    public void Each_user_is_kept_as_the_exact_bytes_the_API_sent_keyed_by_login_uuid()
    {
        // Escapes, spacing and key order must survive: nothing is re-serialized.
        const string first = """{ "name": {"first":"Zo\u00eb", "last": "Ölçer"},  "login" : {"uuid":"7a0eed16-9430-4d68-901f-c0d4c1c3bf00"}, "nat":"TR" }""";
        const string second = """{"login":{"username":"x","uuid":"0b1e2f3a-0000-4000-8000-000000000001"},"name":{"first":"Мирослава"}}""";
        var body = Encoding.UTF8.GetBytes($$$"""{"results":[{{{first}}},{{{second}}}],"info":{"seed":"s","results":2,"page":1,"version":"1.4"}}""");

        var users = RandomUserResponseParser.Parse(body);

        Assert.Equal(["7a0eed16-9430-4d68-901f-c0d4c1c3bf00", "0b1e2f3a-0000-4000-8000-000000000001"], users.Select(u => u.Key));
        Assert.Equal(Encoding.UTF8.GetBytes(first), users[0].Json);
        Assert.Equal(Encoding.UTF8.GetBytes(second), users[1].Json);
    }

    [Fact]
    public void Users_without_a_usable_login_uuid_are_kept_with_no_key()
    {
        var body = Encoding.UTF8.GetBytes("""{"results":[{"login":{}},{"login":{"uuid":""}},{"login":{"uuid":42}},{"name":"x"},null]}""");

        var users = RandomUserResponseParser.Parse(body);

        Assert.Equal(5, users.Count);
        Assert.All(users, u => Assert.Null(u.Key));
        Assert.Equal("null"u8.ToArray(), users[4].Json);
    }

    [Theory]
    [InlineData("""{"error":"Uh oh, something has gone wrong. Please tweet us @randomapi about the issue. Thank you."}""", "api_error", "Uh oh, something has gone wrong")]
    [InlineData("""{"results":[],"info":{"seed":"d3adb33f","results":1,"page":1,"version":"1.4"}}""", "empty_results", "empty 'results'")]
    [InlineData("""{"results":[{"login":{"uuid":"a"}},{"login":{"uu""", "malformed_json", "not complete JSON")]
    [InlineData("", "malformed_json", "not complete JSON")]
    [InlineData("<html>502 Bad Gateway</html>", "malformed_json", "not complete JSON")]
    [InlineData("""{"info":{"seed":"x"}}""", "malformed_json", "no 'results' array")]
    [InlineData("""{"results":{"login":{}}}""", "malformed_json", "no 'results' array")]
    [InlineData("""[{"login":{}}]""", "malformed_json", "not an object")]
    public void A_body_that_is_not_a_usable_answer_is_a_failed_attempt_with_its_reason(string body, string reason, string detail)
    {
        var failure = Assert.Throws<FetchAttemptException>(() => RandomUserResponseParser.Parse(Encoding.UTF8.GetBytes(body)));

        Assert.Equal(reason, failure.Reason.Code());
        Assert.Contains(detail, failure.Message, StringComparison.Ordinal);
        Assert.True(failure.Retryable);
    }
}
