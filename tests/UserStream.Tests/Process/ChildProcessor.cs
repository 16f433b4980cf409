using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using UserStream.Process;

namespace UserStream.Tests.Process;

/// <summary>
/// A process stage in a child process, so that a test can kill it as a crash would: no drain, no commit,
/// no abort, no goodbye to the consumer group. The child is this test assembly itself, started with
/// <c>dotnet exec</c> and <see cref="SettingsVariable"/> set: its module initializer then hosts the stage
/// (exactly as <see cref="ProcessStageExtensions.AddProcessStage"/> registers it) instead of running tests.
/// </summary>
internal sealed class ChildProcessor : IDisposable
{
    public const string SettingsVariable = "USERSTREAM_TEST_CHILD_PROCESSOR";
    private const string ReadyLine = "child processor started";

    private readonly System.Diagnostics.Process _process;
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ChildProcessor(IReadOnlyDictionary<string, string?> settings)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(typeof(ChildProcessor).Assembly.Location);
        start.Environment[SettingsVariable] = JsonSerializer.Serialize(settings);
        _process = new System.Diagnostics.Process { StartInfo = start };
        _process.OutputDataReceived += (_, e) => Collect(e.Data);
        _process.ErrorDataReceived += (_, e) => Collect(e.Data);
        _process.Exited += (_, _) => _ready.TrySetException(new InvalidOperationException($"the child processor exited early:\n{Output}"));
        _process.EnableRaisingEvents = true;
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>What the child wrote, for failure messages.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public static async Task<ChildProcessor> StartAsync(IReadOnlyDictionary<string, string?> settings, CancellationToken cancellationToken)
    {
        var child = new ChildProcessor(settings);
        try
        {
            await child._ready.Task.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
            return child;
        }
        catch
        {
            child.Dispose();
            throw;
        }
    }

    /// <summary>SIGKILL: the process ends at once, mid-whatever.</summary>
    public void Kill()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            Kill();
        }

        _process.Dispose();
    }

    private void Collect(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }

        if (line == ReadyLine)
        {
            _ready.TrySetResult();
        }
    }

#pragma warning disable CA2255 // The test executable hosting a stage in a child process; it returns at once in every other process.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void HostTheStageInAChildProcess()
    {
        var json = Environment.GetEnvironmentVariable(SettingsVariable);
        if (string.IsNullOrEmpty(json))
        {
            return;
        }

        try
        {
            var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
            builder.Configuration.AddInMemoryCollection(JsonSerializer.Deserialize<Dictionary<string, string?>>(json)!);
            builder.Logging.AddConsole().SetMinimumLevel(LogLevel.Warning);
            builder.AddProcessStage();
            var host = builder.Build();
            host.Start();
            Console.WriteLine(ReadyLine);

            // Runs until killed; never returns to the test runner's entry point.
            Thread.Sleep(Timeout.Infinite);
        }
#pragma warning disable CA1031 // Whatever failed is reported to the parent test through the output.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Console.Error.WriteLine(e);
            Environment.Exit(3);
        }
    }
}
