namespace UserStream.Tests.Infrastructure;

/// <summary>What every test class reaches for, imported by a global static using.</summary>
public static class TestSupport
{
    /// <summary>The running test's cancellation (cancelled when the run is aborted or the test times out).</summary>
    public static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>
    /// Asserts that <paramref name="response"/> has <paramref name="status"/> and a ProblemDetails body that mentions
    /// <paramref name="mentions"/>; <paramref name="what"/> names the request in the failure message.
    /// </summary>
    public static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string mentions, string what)
    {
        ArgumentNullException.ThrowIfNull(response);
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(status == response.StatusCode, $"{what}: {(int)response.StatusCode} {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(mentions, text, StringComparison.Ordinal);
    }
}
