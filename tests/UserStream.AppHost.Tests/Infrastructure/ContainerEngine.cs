using System.ComponentModel;
using System.Diagnostics;

namespace UserStream.AppHost.Tests.Infrastructure;

/// <summary>Whether a container engine answers here: the AppHost starts Kafka, PostgreSQL and Cassandra as containers.</summary>
internal static class ContainerEngine
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    /// <summary>Null when <c>docker info</c> or <c>podman info</c> succeeds; otherwise why the tests cannot run.</summary>
    public static async Task<string?> UnavailableReasonAsync(CancellationToken cancellationToken)
    {
        foreach (var cli in new[] { "docker", "podman" })
        {
            if (await AnswersAsync(cli, cancellationToken))
            {
                return null;
            }
        }

        return "No container engine answers `docker info` or `podman info`, so the AppHost's Kafka, PostgreSQL and Cassandra containers cannot start here.";
    }

    private static async Task<bool> AnswersAsync(string cli, CancellationToken cancellationToken)
    {
        using var process = new System.Diagnostics.Process
        {
            StartInfo = new ProcessStartInfo(cli, "info")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            },
        };

        try
        {
            process.Start();
        }
        catch (Win32Exception)
        {
            return false; // not installed
        }

        using var patience = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        patience.CancelAfter(Patience);
        try
        {
            var output = Task.WhenAll(process.StandardOutput.ReadToEndAsync(patience.Token), process.StandardError.ReadToEndAsync(patience.Token));
            await process.WaitForExitAsync(patience.Token);
            await output;
            return process.ExitCode == 0;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            process.Kill(entireProcessTree: true);
            return false; // an engine that does not answer in time is not usable
        }
    }
}
