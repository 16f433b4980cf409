using System.Text.Json;
using UserStream.Contracts;

namespace UserStream.AppHost.Tests.Infrastructure;

/// <summary>
/// An OpenTelemetry Collector container the services export their spans to (instead of the dashboard,
/// which the testing builder leaves out), writing them as OTLP JSON lines into a host folder the test reads.
/// </summary>
internal sealed class OtlpCollector : IDisposable
{
    private const string Image = "otel/opentelemetry-collector-contrib";
    private const string Tag = "0.117.0";
    private const string MountPath = "/otel";

    private const string Configuration = """
        receivers:
          otlp:
            protocols:
              grpc:
                endpoint: 0.0.0.0:4317
        processors:
          batch:
            timeout: 500ms
        exporters:
          file:
            path: /otel/spans.json
        service:
          pipelines:
            traces:
              receivers: [otlp]
              processors: [batch]
              exporters: [file]
        """;

    private readonly string _directory;

    private OtlpCollector(string directory) => _directory = directory;

    private string SpansPath => Path.Combine(_directory, "spans.json");

    /// <summary>Adds the collector to <paramref name="builder"/> and points the three services' OTLP exporters at it.</summary>
    public static OtlpCollector AddTo(IDistributedApplicationTestingBuilder builder)
    {
        var directory = Directory.CreateTempSubdirectory("userstream-otel-").FullName;
        if (!OperatingSystem.IsWindows())
        {
            // The collector runs as a non-root user and writes into the bind mount.
            File.SetUnixFileMode(directory, (UnixFileMode)0b111_111_111);
        }

        File.WriteAllText(Path.Combine(directory, "config.yaml"), Configuration);

        var collector = builder.AddContainer("otel-collector", Image, Tag)
            .WithBindMount(directory, MountPath)
            .WithArgs($"--config={MountPath}/config.yaml")
            .WithEndpoint(targetPort: 4317, name: "otlp", scheme: "http");

        foreach (var service in new[] { ResourceNames.Ingestor, ResourceNames.Processor, ResourceNames.Sink })
        {
            builder.CreateResourceBuilder<ProjectResource>(service)
                .WithEnvironment("OTEL_EXPORTER_OTLP_ENDPOINT", collector.GetEndpoint("otlp"))
                .WithEnvironment("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
                .WaitFor(collector);
        }

        return new OtlpCollector(directory);
    }

    /// <summary>The services (<c>service.name</c>) that took part in each trace collected so far, by trace id.</summary>
    public Dictionary<string, HashSet<string>> ServicesByTrace()
    {
        var traces = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        if (!File.Exists(SpansPath))
        {
            return traces;
        }

        using var stream = new FileStream(SpansPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        while (reader.ReadLine() is { } line)
        {
            JsonDocument document;
            try
            {
                document = JsonDocument.Parse(line);
            }
            catch (JsonException)
            {
                continue; // the line the collector is still writing
            }

            using (document)
            {
                foreach (var resourceSpans in document.RootElement.GetProperty("resourceSpans").EnumerateArray())
                {
                    var service = ServiceName(resourceSpans);
                    foreach (var scopeSpans in resourceSpans.GetProperty("scopeSpans").EnumerateArray())
                    {
                        foreach (var span in scopeSpans.GetProperty("spans").EnumerateArray())
                        {
                            var traceId = span.GetProperty("traceId").GetString() ?? "";
                            if (!traces.TryGetValue(traceId, out var services))
                            {
                                traces[traceId] = services = new HashSet<string>(StringComparer.Ordinal);
                            }

                            services.Add(service);
                        }
                    }
                }
            }
        }

        return traces;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // Files the collector container created may belong to its user; the temp folder is cleaned later.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private static string ServiceName(JsonElement resourceSpans)
    {
        if (resourceSpans.TryGetProperty("resource", out var resource) && resource.TryGetProperty("attributes", out var attributes))
        {
            foreach (var attribute in attributes.EnumerateArray())
            {
                if (attribute.GetProperty("key").GetString() == "service.name")
                {
                    return attribute.GetProperty("value").GetProperty("stringValue").GetString() ?? "";
                }
            }
        }

        return "";
    }
}
