using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using UserStream.Ingest.Sources;
using UserStream.Ingest.Sources.Generator;
using UserStream.Process;
using UserStream.Process.Enrichment;
using UserStream.Process.Routing;
using UserStream.Process.Validation;
using UserStream.Streaming.Kafka;
using UserStream.Streaming.Telemetry;
using UserStream.Streaming.Tracing;

namespace UserStream.Benchmarks;

/// <summary>
/// The process stage's work per record without Kafka: <see cref="RecordRouter.Route"/> on users_created records
/// (the ingest generator's users with the ingestor's headers), single-threaded, after a warm-up. Prints, per record,
/// the mean wall time (Stopwatch; median and best of the rounds: the best is the least disturbed by other load),
/// the bytes allocated on this thread (deterministic) and the Gen0 collections; first for the whole route, then for
/// each step on its own (its inputs prepared beforehand), without and with an activity listener (OpenTelemetry
/// tracing on, as in the services). Options: --records N (default 20000), --rounds N (default 5), --dump FILE
/// (writes a digest of every routed record, valid and rejected variants, to compare the routing before and after
/// a change: same file, same behaviour).
/// </summary>
public sealed class RouteBenchmark : IBenchmark
{
    private static readonly DateTimeOffset Now = new(2026, 1, 2, 3, 4, 5, 678, TimeSpan.Zero);
    private static readonly DateTimeOffset IngestedAt = Now.AddMilliseconds(-1_234.5678);
    private const string RunId = "2b1d4c4e-2f7b-4f34-9f56-7c9a3f0f3b1e";
    private const string TraceParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    public string Name => "route";

    public string Description => "RecordRouter.Route per record, no broker: ns, bytes allocated, Gen0; per step; --dump FILE for a behaviour digest";

    public Task RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var count = BenchmarkArgs.Int(args, "--records", 20_000);
        var rounds = BenchmarkArgs.Int(args, "--rounds", 5);
        var dump = BenchmarkArgs.Text(args, "--dump");
        var records = Records(count);
        Console.WriteLine(
            $"{records.Count} generated users (avg {records.Average(r => r.Message.Value.Length):F0} B) with the ingestor's headers and a traceparent; " +
            $"{rounds} rounds after a warm-up; GC {(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation")}");

        using var rig = new Rig();
        if (dump is not null)
        {
            Dump(rig.Router, records, dump);
            return Task.CompletedTask;
        }

        Console.WriteLine($"{"ns per record (median / best)",-34} {"wall (Stopwatch)",19} {"CPU of this thread",22} {"bytes/record",13} {"gen0/10k",9}");
        RunAll(rig, records, rounds, "no activity listener");
        using (var listener = Listen())
        {
            RunAll(rig, records, rounds, "activity listener (all data)");
        }

        return Task.CompletedTask;
    }

    private static void RunAll(Rig rig, List<ConsumeResult<string, byte[]>> records, int rounds, string title)
    {
        Console.WriteLine($"-- {title}");
        var router = rig.Router;
        var validator = rig.Validator;
        var source = rig.Telemetry.Source;
        var validation = rig.Options.Validation;

        // Inputs of each step, made by the steps before it.
        var contexts = records.Select(r => RecordContext.From(r.Message.Headers, r.Message.Timestamp, Now)).ToArray();
        var users = records.Select(r => validator.Validate(r.Message.Key, r.Message.Value, Now).User!).ToArray();
        var enriched = users.Select((u, i) => UserEnricher.Enrich(u, contexts[i], Now)).ToArray();
        if (users.Any(u => u is null))
        {
            throw new InvalidOperationException("a generated user was rejected");
        }

        Measure("Route (whole)", records.Count, rounds, i => router.Route(records[i], Now));
        Measure("  RecordContext.From (headers in)", records.Count, rounds, i => RecordContext.From(records[i].Message.Headers, records[i].Message.Timestamp, Now));
        Measure("  Validate", records.Count, rounds, i => validator.Validate(records[i].Message.Key, records[i].Message.Value, Now));
        Measure("    JsonStructure.Check", records.Count, rounds, i => JsonStructure.Check(records[i].Message.Value, validation.MaxDepth));
        Measure("    JsonDocument.Parse", records.Count, rounds, i =>
        {
            using var document = JsonDocumentParse(records[i].Message.Value, validation.MaxDepth);
        });
        Measure("  UserEnricher.Enrich", records.Count, rounds, i => UserEnricher.Enrich(users[i], contexts[i], Now));
        Measure("  EnrichedUserJson.Serialize", records.Count, rounds, i => EnrichedUserJson.Serialize(enriched[i]));
        Measure("  headers out + key", records.Count, rounds, i =>
        {
            _ = RecordRouter.OutputHeaders(records[i], contexts[i], traced: false);
            _ = RecordRouter.KeyOf(users[i].Id, records[i].Message.Key);
        });
        Measure("  activities (process + send)", records.Count, rounds, i =>
        {
            using var process = KafkaTracing.StartProcess(source, records[i], rig.Options.ConsumerGroup);
            using var send = KafkaTracing.StartSend(source, rig.Options.OutputTopic, records[i].Message.Key, new Headers());
        });
    }

    private static System.Text.Json.JsonDocument JsonDocumentParse(byte[] value, int maxDepth) =>
        System.Text.Json.JsonDocument.Parse(value, new System.Text.Json.JsonDocumentOptions { MaxDepth = maxDepth + 1 });

    private static void Measure(string name, int count, int rounds, Action<int> step)
    {
        // Warm-up: two passes (tiered JIT reaches its optimised code).
        for (var pass = 0; pass < 2; pass++)
        {
            for (var i = 0; i < count; i++)
            {
                step(i);
            }
        }

        var perRound = new double[rounds];
        var cpuPerRound = new double[rounds];
        var gen0 = GC.CollectionCount(0);
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        for (var round = 0; round < rounds; round++)
        {
            var cpu = ThreadCpu.Nanoseconds();
            var start = Stopwatch.GetTimestamp();
            for (var i = 0; i < count; i++)
            {
                step(i);
            }

            perRound[round] = Stopwatch.GetElapsedTime(start).TotalNanoseconds / count;
            cpuPerRound[round] = (ThreadCpu.Nanoseconds() - cpu) / (double)count;
        }

        var bytes = (GC.GetAllocatedBytesForCurrentThread() - allocated) / (double)(count * rounds);
        var collections = (GC.CollectionCount(0) - gen0) * 10_000.0 / (count * rounds);
        Array.Sort(perRound);
        Array.Sort(cpuPerRound);
        Console.WriteLine(
            $"{name,-34} {perRound[rounds / 2],9:N0} / {perRound[0],7:N0} {cpuPerRound[rounds / 2],12:N0} / {cpuPerRound[0],7:N0} {bytes,13:N0} {collections,9:F2}");
    }

    private static ActivityListener Listen()
    {
        var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == StageTelemetry.Process,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);
        return listener;
    }

    /// <summary>
    /// One line per routed record: topic, key, rejection code, headers, value (SHA-256), for the valid records and
    /// for variants of them that each path of the router rejects (or accepts unusually).
    /// </summary>
    private static void Dump(RecordRouter router, List<ConsumeResult<string, byte[]>> records, string path)
    {
        var lines = new List<string>();
        var variants = Variants().ToList();
        for (var i = 0; i < records.Count; i++)
        {
            var record = records[i];
            Write("valid", record);
            if (i < 400)
            {
                var variant = variants[i % variants.Count];
                Write(variant.Name, variant.Change(Copy(record)));
            }
        }

        File.WriteAllLines(path, lines);
        Console.WriteLine($"{lines.Count} routed records written to {path}; {lines.Count(l => !l.Contains("\tenriched\t", StringComparison.Ordinal))} rejected");

        void Write(string name, ConsumeResult<string, byte[]> input)
        {
            var routed = router.Route(input, Now);
            var line = new StringBuilder()
                .Append(name).Append('\t').Append(routed.Topic).Append('\t').Append(routed.RejectionCode ?? "enriched").Append('\t')
                .Append(routed.IngestedAt.ToString("O", CultureInfo.InvariantCulture)).Append('\t')
                .Append(routed.Message.Key).Append('\t').Append(routed.Message.Timestamp.UnixTimestampMs).Append('\t');
            foreach (var header in routed.Message.Headers)
            {
                line.Append(header.Key).Append('=').Append(Encoding.UTF8.GetString(header.GetValueBytes())).Append(';');
            }

            line.Append('\t').Append(routed.Message.Value is null ? "null" : Convert.ToHexString(SHA256.HashData(routed.Message.Value)));
            if (routed.Message.Value is { Length: < 4096 } value && !routed.IsRejected)
            {
                line.Append('\t').Append(Encoding.UTF8.GetString(value));
            }

            lines.Add(line.ToString());
        }
    }

    private static IEnumerable<(string Name, Func<ConsumeResult<string, byte[]>, ConsumeResult<string, byte[]>> Change)> Variants()
    {
        yield return ("tombstone", r => With(r, value: null));
        yield return ("not json", r => With(r, value: "hello"u8.ToArray()));
        yield return ("truncated", r => With(r, value: r.Message.Value[..(r.Message.Value.Length / 2)]));
        yield return ("trailing", r => With(r, value: [.. r.Message.Value, .. " x"u8]));
        yield return ("bom", r => With(r, value: [0xEF, 0xBB, 0xBF, .. r.Message.Value]));
        yield return ("no key", r => { r.Message.Key = null!; return r; });
        yield return ("other key", r => { r.Message.Key = Guid.Empty.ToString("D"); return r; });
        yield return ("key in braces", r => { r.Message.Key = "{" + r.Message.Key + "}"; return r; });
        yield return ("control char in name", r => Replace(r, "\"first\":\"", "\"first\":\"\\u0007"));
        yield return ("duplicate email", r => Replace(r, "\"phone\":", "\"email\":\"a@b.c\",\"phone\":"));
        yield return ("bad date", r => Replace(r, "\"dob\":{\"date\":\"", "\"dob\":{\"date\":\"x"));
        yield return ("future registration", r => Replace(r, "\"registered\":{\"date\":\"", "\"registered\":{\"date\":\"2099-01-01T00:00:00Z\",\"x\":\""));
        yield return ("bad nat", r => Replace(r, "\"nat\":\"", "\"nat\":\"X"));
        yield return ("bad email", r => Replace(r, "\"email\":\"", "\"email\":\"a b"));
        yield return ("wrong type", r => Replace(r, "\"phone\":\"", "\"phone\":1,\"x\":\""));
        yield return ("numeric postcode", r => Replace(r, "\"postcode\":", "\"postcode\":12345,\"x\":"));
        yield return ("odd offset", r => Replace(r, "\"offset\":\"", "\"offset\":\"+99:"));
        yield return ("control run id", r => { r.Message.Headers.SetString(PipelineHeaders.RunId, "run\u0001"); return r; });
        yield return ("long run id", r => { r.Message.Headers.SetString(PipelineHeaders.RunId, new string('r', 2000)); return r; });
        yield return ("no headers", r => { r.Message.Headers = null!; return r; });
        yield return ("kafka timestamp only", r => { r.Message.Headers.Remove(PipelineHeaders.IngestedAt); return r; });
        yield return ("offset ingested-at", r => { r.Message.Headers.SetString(PipelineHeaders.IngestedAt, "2025-12-31T23:00:00.1234567+02:00"); return r; });
        yield return ("bad ingested-at", r => { r.Message.Headers.SetString(PipelineHeaders.IngestedAt, "yesterday"); return r; });
        yield return ("tracestate", r => { r.Message.Headers.SetString(PipelineHeaders.TraceState, "a=b"); return r; });
        yield return ("no trace", r => { r.Message.Headers.Remove(PipelineHeaders.TraceParent); return r; });
        yield return ("too deep in arrays", r => Replace(r, "\"nat\":", "\"deep\":[{\"a\":[{\"b\":{\"c\":[{\"d\":{\"e\":[{\"f\":{}}]}}]}}]}],\"nat\":"));
        yield return ("too deep after a sibling", r => Replace(r, "\"nat\":", "\"deep\":[{\"z\":1},[[[[[[[[[]]]]]]]]]],\"nat\":"));
        yield return ("duplicate in an array", r => Replace(r, "\"nat\":", "\"arr\":[{\"x\":1,\"y\":2},{\"x\":1,\"x\":2}],\"nat\":"));
        yield return ("duplicate escaped", r => Replace(r, "\"nat\":", "\"caf\\u00e9\":1,\"café\":2,\"nat\":"));
        yield return ("distinct escaped", r => Replace(r, "\"nat\":", "\"caf\\u00e9\":1,\"cafe\":2,\"\":{\"\":{\"\":1}},\"nat\":"));
        yield return ("duplicate empty name", r => Replace(r, "\"nat\":", "\"o\":{\"\":1,\"\":2},\"nat\":"));
        yield return ("lone surrogate name", r => Replace(r, "\"nat\":", "\"\\ud800\":1,\"nat\":"));
        yield return ("many properties", r => Replace(r, "\"nat\":", "\"many\":{" + string.Join(",", Enumerable.Range(0, 300).Select(i => $"\"p{i}\":{i}")) + "},\"nat\":"));
        yield return ("many properties duplicate", r => Replace(r, "\"nat\":", "\"many\":{" + string.Join(",", Enumerable.Range(0, 300).Select(i => $"\"p{i % 250}\":{i}")) + "},\"nat\":"));
        yield return ("deep too deep", r => Replace(r, "\"nat\":", "\"n\":" + new string('[', 70) + new string(']', 70) + ",\"nat\":"));
        yield return ("escaped field name", r => Replace(r, "\"phone\":", "\"ph\\u006fne\":"));
        yield return ("comment", r => Replace(r, "\"nat\":", "/* c */\"nat\":"));
        yield return ("trailing comma", r => Replace(r, "\"nat\":", "\"q\":[1,],\"nat\":"));
        yield return ("30 February", r => Replace(r, "\"dob\":{\"date\":\"", "\"dob\":{\"date\":\"1990-02-30T00:00:00.000Z\",\"x\":\""));
        yield return ("leap day", r => Replace(r, "\"dob\":{\"date\":\"", "\"dob\":{\"date\":\"2000-02-29T23:59:59.999Z\",\"x\":\""));
        yield return ("before 1900", r => Replace(r, "\"dob\":{\"date\":\"", "\"dob\":{\"date\":\"1899-12-31T23:59:59.999Z\",\"x\":\""));
        yield return ("hour 24", r => Replace(r, "\"dob\":{\"date\":\"", "\"dob\":{\"date\":\"1990-01-01T24:00:00.000Z\",\"x\":\""));
        yield return ("date with offset", r => Replace(r, "\"dob\":{\"date\":\"", "\"dob\":{\"date\":\"1990-01-01T01:30:00.000+02:00\",\"x\":\""));
        yield return ("date only", r => Replace(r, "\"registered\":{\"date\":\"", "\"registered\":{\"date\":\"2010-05-06\",\"x\":\""));
        yield return ("upper-case domain", r => Replace(r, "@", "@EXAMPLE.Org.x"));
        yield return ("offset variants", r => Replace(r, "\"offset\":\"", "\"offset\":\" -0:00 \",\"x\":\""));
        yield return ("offset one digit", r => Replace(r, "\"offset\":\"", "\"offset\":\"5:45\",\"x\":\""));
        yield return ("offset 15", r => Replace(r, "\"offset\":\"", "\"offset\":\"+15:00\",\"x\":\""));
        yield return ("offset arabic digits", r => Replace(r, "\"offset\":\"", "\"offset\":\"+\u0665:00\",\"x\":\""));
        yield return ("blank names", r => Replace(r, "\"first\":\"", "\"first\":\"  \",\"x\":\""));
        yield return ("no street", r => Replace(r, "\"street\":", "\"x\":"));
        yield return ("C1 control", r => Replace(r, "\"last\":\"", "\"last\":\"\u0085"));
        yield return ("DEL", r => Replace(r, "\"last\":\"", "\"last\":\"a\u007f"));
        yield return ("run id with C1", r => { r.Message.Headers.SetString(PipelineHeaders.RunId, "run\u009f"); return r; });
        yield return ("huge", r => Replace(r, "\"phone\":", "\"pad\":\"" + new string('p', 70_000) + "\",\"phone\":"));
    }

    private static ConsumeResult<string, byte[]> Replace(ConsumeResult<string, byte[]> record, string from, string to)
    {
        var text = Encoding.UTF8.GetString(record.Message.Value);
        var at = text.IndexOf(from, StringComparison.Ordinal);
        return at < 0 ? record : With(record, Encoding.UTF8.GetBytes(text[..at] + to + text[(at + from.Length)..]));
    }

    private static ConsumeResult<string, byte[]> With(ConsumeResult<string, byte[]> record, byte[]? value)
    {
        record.Message.Value = value!;
        return record;
    }

    private static ConsumeResult<string, byte[]> Copy(ConsumeResult<string, byte[]> record)
    {
        var headers = new Headers();
        foreach (var header in record.Message.Headers)
        {
            headers.Add(header.Key, header.GetValueBytes());
        }

        return Record(record.Message.Key, record.Message.Value, headers, record.Offset.Value);
    }

    /// <summary>The ingest generator's users, keyed by login.uuid, with the headers the ingestor writes (and an upstream trace).</summary>
    private static List<ConsumeResult<string, byte[]>> Records(int count)
    {
        const int pageSize = 5_000;
        var generator = UserGenerator.Create();
        return [.. Enumerable.Range(1, (count + pageSize - 1) / pageSize)
            .SelectMany(page => generator.Generate(new PageRequest("route-benchmark", page, Math.Min(pageSize, count - (page - 1) * pageSize))))
            .Select((user, i) => Record(
                user.Key!,
                user.Json,
                new Headers()
                    .SetString(PipelineHeaders.RunId, RunId)
                    .SetString(PipelineHeaders.Source, "generator")
                    .SetTimestamp(PipelineHeaders.IngestedAt, IngestedAt)
                    .SetString(PipelineHeaders.TraceParent, TraceParent),
                i))];
    }

    private static ConsumeResult<string, byte[]> Record(string key, byte[] value, Headers headers, long offset) => new()
    {
        Topic = Topics.UsersCreated,
        Partition = new Partition((int)(offset % 6)),
        Offset = new Offset(offset),
        Message = new Message<string, byte[]>
        {
            Key = key,
            Value = value,
            Headers = headers,
            Timestamp = new Timestamp(IngestedAt.AddMilliseconds(-3)),
        },
    };


    /// <summary>
    /// CPU time of the calling thread (Linux <c>CLOCK_THREAD_CPUTIME_ID</c>): unlike the wall time, it leaves out the
    /// time the thread waited for a core, so other load on the machine changes it less. NaN elsewhere.
    /// </summary>
    private static class ThreadCpu
    {
        private const int ClockThreadCpuTime = 3;

        public static double Nanoseconds() =>
            OperatingSystem.IsLinux() && NativeMethods.clock_gettime(ClockThreadCpuTime, out var time) == 0
                ? time.Seconds * 1e9 + time.Nanoseconds
                : double.NaN;
    }

    /// <summary>A router as the stage builds it (its options' defaults, the stage's telemetry), without a host.</summary>
    private sealed class Rig : IDisposable
    {
        private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();

        public Rig()
        {
            Telemetry = new StageTelemetry(StageTelemetry.Process, _services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>());
            Validator = new UserValidator(Options.Validation);
            Router = new RecordRouter(Validator, Telemetry, Microsoft.Extensions.Options.Options.Create(Options), NullLogger<RecordRouter>.Instance);
        }

        public ProcessOptions Options { get; } = new() { InstanceId = "benchmark" };
        public StageTelemetry Telemetry { get; }
        public UserValidator Validator { get; }
        public RecordRouter Router { get; }

        public void Dispose()
        {
            Telemetry.Dispose();
            _services.Dispose();
        }
    }
}

[System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential)]
internal struct TimeSpec
{
    public long Seconds;
    public long Nanoseconds;
}

internal static partial class NativeMethods
{
    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "clock_gettime")]
    [System.Runtime.InteropServices.DefaultDllImportSearchPaths(System.Runtime.InteropServices.DllImportSearchPath.SafeDirectories)]
    internal static partial int clock_gettime(int clock, out TimeSpec time);
}
