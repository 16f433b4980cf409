using System.Collections.Concurrent;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace UserStream.AppHost.Tests.Infrastructure;

/// <summary>A span as a service exported it: which service and replica, which trace, which parent.</summary>
internal sealed record ReceivedSpan(string Service, string InstanceId, string Scope, string Name, string TraceId, string SpanId, string ParentSpanId);

/// <summary>
/// An OTLP/HTTP receiver in the test process (127.0.0.1, a free port) that the services export to instead of
/// the dashboard, which the testing builder leaves out. It keeps every span of <c>POST /v1/traces</c>
/// (protobuf, the .NET exporter's <c>http/protobuf</c>) and acknowledges logs and metrics without keeping them.
/// </summary>
internal sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ReceivedSpan> _spans = new();

    private OtlpReceiver(WebApplication app) => _app = app;

    /// <summary>Base address to give as <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>.</summary>
    public string Endpoint { get; private set; } = "";

    public IReadOnlyCollection<ReceivedSpan> Spans => [.. _spans];

    public static async Task<OtlpReceiver> StartAsync(CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new OtlpReceiver(app);

        app.MapPost("/v1/traces", async (HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body, request.HttpContext.RequestAborted);
            foreach (var span in OtlpTraces.Parse(body.ToArray()))
            {
                receiver._spans.Enqueue(span);
            }

            return Results.Bytes([], "application/x-protobuf");
        });
        app.MapPost("/v1/logs", () => Results.Bytes([], "application/x-protobuf"));
        app.MapPost("/v1/metrics", () => Results.Bytes([], "application/x-protobuf"));

        await app.StartAsync(cancellationToken);
        receiver.Endpoint = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        return receiver;
    }

    /// <summary>Points a service's OTLP exporter at this receiver (replacing what Aspire sets for the dashboard).</summary>
    public void ExportFrom(IResourceBuilder<ProjectResource> service) => service
        .WithEnvironment("OTEL_EXPORTER_OTLP_ENDPOINT", Endpoint)
        .WithEnvironment("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
        .WithEnvironment("OTEL_BSP_SCHEDULE_DELAY", "500");

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}

/// <summary>
/// Reads the spans of an OTLP <c>ExportTraceServiceRequest</c> (opentelemetry-proto, trace/v1): the few
/// fields the tests need, straight from the protobuf wire format.
/// </summary>
internal static class OtlpTraces
{
    public static List<ReceivedSpan> Parse(ReadOnlySpan<byte> request)
    {
        var spans = new List<ReceivedSpan>();
        var reader = new ProtoReader(request);
        while (reader.Next(out var field, out var value))
        {
            if (field == 1)
            {
                ResourceSpans(value, spans); // resource_spans
            }
        }

        return spans;
    }

    private static void ResourceSpans(ReadOnlySpan<byte> message, List<ReceivedSpan> spans)
    {
        var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
        var scopeSpans = new List<byte[]>();
        var reader = new ProtoReader(message);
        while (reader.Next(out var field, out var value))
        {
            if (field == 1)
            {
                var resource = new ProtoReader(value);
                while (resource.Next(out var resourceField, out var attribute))
                {
                    if (resourceField == 1 && KeyValue(attribute) is { } pair)
                    {
                        attributes[pair.Key] = pair.Value;
                    }
                }
            }
            else if (field == 2)
            {
                scopeSpans.Add(value.ToArray());
            }
        }

        var service = attributes.GetValueOrDefault("service.name", "");
        var instance = attributes.GetValueOrDefault("service.instance.id", "");
        foreach (var scope in scopeSpans)
        {
            var scopeName = "";
            var reader2 = new ProtoReader(scope);
            while (reader2.Next(out var field, out var value))
            {
                if (field == 1)
                {
                    var scopeReader = new ProtoReader(value);
                    while (scopeReader.Next(out var scopeField, out var name))
                    {
                        if (scopeField == 1)
                        {
                            scopeName = Encoding.UTF8.GetString(name);
                        }
                    }
                }
                else if (field == 2)
                {
                    spans.Add(Span(value, service, instance, scopeName));
                }
            }
        }
    }

    private static ReceivedSpan Span(ReadOnlySpan<byte> message, string service, string instance, string scope)
    {
        string traceId = "", spanId = "", parent = "", name = "";
        var reader = new ProtoReader(message);
        while (reader.Next(out var field, out var value))
        {
            switch (field)
            {
                case 1: traceId = Convert.ToHexStringLower(value); break;
                case 2: spanId = Convert.ToHexStringLower(value); break;
                case 4: parent = Convert.ToHexStringLower(value); break;
                case 5: name = Encoding.UTF8.GetString(value); break;
            }
        }

        return new ReceivedSpan(service, instance, scope, name, traceId, spanId, parent);
    }

    private static KeyValuePair<string, string>? KeyValue(ReadOnlySpan<byte> message)
    {
        string? key = null, text = null;
        var reader = new ProtoReader(message);
        while (reader.Next(out var field, out var value))
        {
            if (field == 1)
            {
                key = Encoding.UTF8.GetString(value);
            }
            else if (field == 2)
            {
                var any = new ProtoReader(value);
                while (any.Next(out var anyField, out var stringValue))
                {
                    if (anyField == 1)
                    {
                        text = Encoding.UTF8.GetString(stringValue);
                    }
                }
            }
        }

        return key is null || text is null ? null : new(key, text);
    }

    /// <summary>Protobuf wire format: yields length-delimited fields, skips the others.</summary>
    private ref struct ProtoReader(ReadOnlySpan<byte> data)
    {
        private ReadOnlySpan<byte> _data = data;

        public bool Next(out int field, out ReadOnlySpan<byte> value)
        {
            while (!_data.IsEmpty)
            {
                var tag = Varint();
                field = (int)(tag >> 3);
                switch (tag & 7)
                {
                    case 0: Varint(); break;
                    case 1: _data = _data[8..]; break;
                    case 5: _data = _data[4..]; break;
                    case 2:
                        var length = (int)Varint();
                        value = _data[..length];
                        _data = _data[length..];
                        return true;
                    default: throw new FormatException($"protobuf wire type {tag & 7} is not supported");
                }
            }

            field = 0;
            value = default;
            return false;
        }

        private ulong Varint()
        {
            ulong result = 0;
            for (var shift = 0; ; shift += 7)
            {
                var b = _data[0];
                _data = _data[1..];
                result |= (ulong)(b & 0x7f) << shift;
                if (b < 0x80)
                {
                    return result;
                }
            }
        }
    }
}
