using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace UserStream.Testing;

/// <summary>
/// A pipeline stage running in its own process (tests/UserStream.StageRunner), configured with the same
/// keys as its service, so that a test can kill it outright (<see cref="Kill"/>, like kill -9) mid-work.
/// The runner is built with the test project (a ProjectReference that references no assembly).
/// </summary>
public sealed class StageProcess : IAsyncDisposable
{
    private const int KeptOutputLines = 400;
    private readonly System.Diagnostics.Process _process;
    private readonly Queue<string> _output = new();

    private StageProcess(System.Diagnostics.Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) => Keep(e.Data);
        _process.ErrorDataReceived += (_, e) => Keep(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>
    /// Starts <c>UserStream.StageRunner &lt;stage&gt;</c> with <paramref name="settings"/> as environment variables
    /// (<c>Sink:Batch:MaxCount</c> becomes <c>Sink__Batch__MaxCount</c>). HTTP listens on a free port unless
    /// <c>ASPNETCORE_URLS</c> is given.
    /// </summary>
    public static StageProcess Start(string stage, IReadOnlyDictionary<string, string?> settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var start = new ProcessStartInfo(DotnetHost)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(RunnerPath);
        start.ArgumentList.Add(stage);
        start.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
        start.Environment["DOTNET_ENVIRONMENT"] = "Development";
        foreach (var (key, value) in settings)
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        var process = System.Diagnostics.Process.Start(start) ?? throw new InvalidOperationException("The stage runner did not start.");
        return new StageProcess(process);
    }

    /// <summary>Resident set size now (<c>VmRSS</c>) or at its peak so far (<c>VmHWM</c>), MiB, from /proc.</summary>
    public double MemoryMiB(string field = "VmHWM")
    {
        if (_process.HasExited)
        {
            throw new InvalidOperationException($"the stage exited early:\n{RecentOutput()}");
        }

        var line = File.ReadLines($"/proc/{_process.Id}/status").First(l => l.StartsWith(field + ":", StringComparison.Ordinal));
        return long.Parse(line[(field.Length + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024.0;
    }

    /// <summary>A TCP port free on the loopback interface now, for a stage's <c>ASPNETCORE_URLS</c>.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Ends the process at once, as kill -9 does: no drain, no commit, no goodbye to the group.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
    }

    /// <summary>The process's last lines of console output (for failure messages).</summary>
    public string RecentOutput()
    {
        lock (_output)
        {
            return string.Join(Environment.NewLine, _output);
        }
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        _process.Dispose();
        return ValueTask.CompletedTask;
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.Enqueue(line);
            while (_output.Count > KeptOutputLines)
            {
                _output.Dequeue();
            }
        }
    }

    private static string DotnetHost =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";

    /// <summary>
    /// The runner built next to the caller: <c>tests/UserStream.StageRunner/bin/&lt;configuration&gt;/&lt;tfm&gt;/</c> of the
    /// same repository, configuration and target framework as the calling assembly; or <c>USERSTREAM_STAGE_RUNNER</c>.
    /// </summary>
    public static string RunnerPath
    {
        get
        {
            if (Environment.GetEnvironmentVariable("USERSTREAM_STAGE_RUNNER") is { Length: > 0 } configured)
            {
                return configured;
            }

            var binDirectory = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            var framework = binDirectory.Name;
            var configuration = binDirectory.Parent?.Name ?? "Debug";
            for (var directory = binDirectory; directory is not null; directory = directory.Parent)
            {
                var candidate = Path.Combine(directory.FullName, "tests", "UserStream.StageRunner", "bin", configuration, framework, "UserStream.StageRunner.dll");
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }

            throw new FileNotFoundException(
                $"UserStream.StageRunner.dll ({configuration}/{framework}) was not found above {AppContext.BaseDirectory}; build tests/UserStream.StageRunner.");
        }
    }
}
