namespace UserStream.Tests.Infrastructure;

/// <summary>What every test class reaches for, imported by a global static using.</summary>
public static class TestSupport
{
    /// <summary>The running test's cancellation (cancelled when the run is aborted or the test times out).</summary>
    public static CancellationToken Ct => TestContext.Current.CancellationToken;
}
