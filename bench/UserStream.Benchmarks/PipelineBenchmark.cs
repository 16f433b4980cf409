using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Diagnostics.Tracing;
using System.Runtime.InteropServices;
using System.Text.Json;
using Npgsql;
using UserStream.Ingest.Endpoints;
using UserStream.Process.Worker;
using UserStream.Sink.Telemetry;
using UserStream.Streaming.Kafka;
using UserStream.Streaming.Telemetry;

namespace UserStream.Benchmarks;

/// <summary>
/// The whole pipeline streaming: ingest (offline generator, runs triggered over its HTTP API) → mock Kafka →
/// process → sink → PostgreSQL, every stage with its service's defaults (batches of 500 / 200 ms).
/// <list type="number">
/// <item>The three stages in this process: a fixed offered rate (runs of rate/10 users every 100 ms), then full
/// speed (runs of 2,500 users as fast as the pipeline drains them, at most 2,000 users per partition in flight,
/// because the mock keeps only 5 MiB per partition). Throughput = users stored / (last stored − first trigger).
/// Latency of every user = the end of the sink's per-record <c>store write</c> span (the store confirmed the
/// batch holding the user's row; collected by an <see cref="ActivityListener"/> on <c>UserStream.Sink</c>) −
/// the user's <c>ingested_at</c> (the ingestor's clock when it produced the record; same machine clock). Its hops
/// come from the starts of the processor's and the sink's <c>process</c> spans (the listener also makes the
/// processor create its spans, as the services do when they export traces).</item>
/// <item>The processor beside a plain consume→produce pass-through on the same broker (<see cref="ProcessThroughput"/>).</item>
/// <item>Each stage in its own process (tests/UserStream.StageRunner, server GC like the Web SDK services): full
/// speed again, and each stage's peak resident memory (VmHWM of /proc/&lt;pid&gt;/status).</item>
/// </list>
/// Every phase checks that each user the runs produced is stored once, or dead-lettered with its reason.
/// Sections 1 and 2 compare the batching (a batch closes when the stream pauses) with the old one (open for its
/// whole MaxWait), <c>--repeat</c> times; <c>TestResults/bench/pipeline.json</c> holds the medians.
/// Options: --rate N (1000) --seconds S (15) --warmup-seconds S (3, at the fixed rate, uncounted, before it is measured)
/// --idle-wait-ms MS (the services' default; the new behaviour's Process/Sink:Batch:IdleWait, to compare settings) --records N (100000, full speed) --process-records N (50000)
/// --memory-records N (60000) --partitions P (6) --repeat N (3).
/// </summary>
public sealed class PipelineBenchmark : IBenchmark
{
    private const int FullSpeedRunSize = 2_500;
    private const int InFlightPerPartition = 2_000;
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(60);

    public string Name => "pipeline";

    public string Description =>
        "ingest → process → sink → PostgreSQL: end-to-end users/s, latency p50/p95/p99 at a fixed rate and at full speed, processor vs pass-through, peak memory per stage; checks nothing is lost";

    public async Task RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var rate = BenchmarkArgs.Int(args, "--rate", 1_000);
        var seconds = BenchmarkArgs.Int(args, "--seconds", 15);
        var warmupSeconds = BenchmarkArgs.Int(args, "--warmup-seconds", 3);
        // The new behaviour's batch limits: the services' defaults, or the idle wait asked for.
        var idleWaitAsked = BenchmarkArgs.Text(args, "--idle-wait-ms") is not null;
        var newBatching = new BatchLimits();
        newBatching.IdleWait = TimeSpan.FromMilliseconds(BenchmarkArgs.Int(args, "--idle-wait-ms", (int)newBatching.IdleWait.TotalMilliseconds));
        var newIdleWait = $"{newBatching.IdleWait.TotalMilliseconds:0.#} ms" + (idleWaitAsked ? ", --idle-wait-ms" : ", the default");
        var fullSpeed = BenchmarkArgs.Int(args, "--records", 100_000);
        var processRecords = BenchmarkArgs.Int(args, "--process-records", 50_000);
        var memoryRecords = BenchmarkArgs.Int(args, "--memory-records", 60_000);
        var partitions = BenchmarkArgs.Int(args, "--partitions", 6);
        var repeatCount = BenchmarkArgs.Int(args, "--repeat", 3);
        var total = Stopwatch.StartNew();
        using var gcPauses = _pauses = new GcPauses();
        Console.WriteLine($"machine: {Machine()}; PostgreSQL {await ServerVersionAsync()}; mock Kafka cluster of 3 brokers, {partitions} partitions per topic");

        // A fresh pipeline with `settings` added to each stage: a fixed offered rate, then full speed.
        async Task<(Figures FixedRate, Figures FullSpeed)> FixedRateThenFullSpeedAsync(Dictionary<string, string?> settings)
        {
            (Figures, Figures)? figures = null;
            await InProcessAsync(partitions, settings, async (rig, ingest, timeline) =>
            {
                var stored = timeline.Stored;

                // Uncounted: the first records through a fresh pipeline take hundreds of milliseconds (first transaction,
                // first store write, code not yet compiled); what is measured is the pipeline running, not starting.
                var warmup = await OfferAtFixedRateAsync(ingest, stored, rate, warmupSeconds, cancellationToken);
                await ReportAsync($"warm-up, not counted: fixed rate {rate:N0}/s for {warmupSeconds} s from the start", warmup, rig, timeline, cancellationToken);
                var offer = await OfferAtFixedRateAsync(ingest, stored, rate, seconds, cancellationToken);
                var atRate = await ReportAsync($"fixed rate {rate:N0}/s for {seconds} s", offer, rig, timeline, cancellationToken);
                CheckOfferedRate(atRate, rate);
                var storedBefore = stored.Count;
                var full = await OfferAtFullSpeedAsync(ingest, () => stored.Count - storedBefore, fullSpeed, partitions, cancellationToken);
                figures = (atRate, await ReportAsync("full speed", full, rig, timeline, cancellationToken));
            }, cancellationToken);
            return figures!.Value;
        }

        // The comparison of the new batching with the old, repeated; the summary takes the median of each figure
        // (full-speed figures vary by 10-20 % from run to run on 2 shared cores). Both run with the services' defaults,
        // the consumers' fetch.wait.max.ms included (librdkafka's 500 ms): the patched mock (change 7) answers a waiting
        // fetch as soon as data arrives, as a Kafka broker does, so no shorter fetch wait has to stand in for Kafka.
        var repeats = new List<((Figures FixedRate, Figures FullSpeed) Current, (Figures FixedRate, Figures FullSpeed) Baseline, (double Stage, double PassThrough) NewProcess, (double Stage, double PassThrough) OldProcess)>();
        for (var repeat = 1; repeat <= repeatCount; repeat++)
        {
            Console.WriteLine($"== comparison {repeat} of {repeatCount}");
            Console.WriteLine($"-- 1. the three stages in this process, the services' defaults (a batch closes when no next record arrives within {newIdleWait})");
            var idleWait = newBatching.IdleWait.ToString("c", CultureInfo.InvariantCulture);
            var current = await FixedRateThenFullSpeedAsync(!idleWaitAsked ? [] : new()
            {
                ["Process:Batch:IdleWait"] = idleWait,
                ["Sink:Batch:IdleWait"] = idleWait,
            });

            // The batches' old behaviour: every batch open for its whole MaxWait (Batch:IdleWait = MaxWait).
            Console.WriteLine("-- 1b. as 1, with batches that stay open for their whole MaxWait (Process/Sink:Batch:IdleWait = MaxWait, the behaviour before IdleWait)");
            var maxWait = new BatchLimits().MaxWait.ToString("c", CultureInfo.InvariantCulture);
            var baseline = await FixedRateThenFullSpeedAsync(new()
            {
                ["Process:Batch:IdleWait"] = maxWait,
                ["Sink:Batch:IdleWait"] = maxWait,
            });

            Console.WriteLine("-- 2. the processor beside a plain pass-through on the same broker");
            (double Stage, double PassThrough) newProcess, oldProcess;
            await using (var cluster = await MockKafkaCluster.StartAsync())
            {
                newProcess = await ProcessThroughput.CompareAsync(cluster, processRecords, partitions, cancellationToken, newBatching);
            }

            Console.WriteLine("-- 2b. the same with batches open for their whole MaxWait (the behaviour before IdleWait)");
            await using (var cluster = await MockKafkaCluster.StartAsync())
            {
                var old = new BatchLimits();
                old.IdleWait = old.MaxWait;
                oldProcess = await ProcessThroughput.CompareAsync(cluster, processRecords, partitions, cancellationToken, old);
            }

            repeats.Add((current, baseline, newProcess, oldProcess));
        }

        var newShares = repeats.Select(r => r.NewProcess.Stage / r.NewProcess.PassThrough).ToList();
        var oldShares = repeats.Select(r => r.OldProcess.Stage / r.OldProcess.PassThrough).ToList();
        Console.WriteLine($"processor / pass-through per repeat: {string.Join(", ", newShares.Select(x => x.ToString("P0", CultureInfo.InvariantCulture)))} " +
            $"(median {Median(newShares).ToString("P0", CultureInfo.InvariantCulture)}); old batching {string.Join(", ", oldShares.Select(x => x.ToString("P0", CultureInfo.InvariantCulture)))}");
        await WriteSummaryAsync(
            rate,
            repeats.Count,
            newIdleWait,
            (Median(newShares), Median(oldShares)),
            (Median(repeats.Select(r => r.Current.FixedRate)), Median(repeats.Select(r => r.Current.FullSpeed)), Median(repeats.Select(r => r.NewProcess))),
            (Median(repeats.Select(r => r.Baseline.FixedRate)), Median(repeats.Select(r => r.Baseline.FullSpeed)), Median(repeats.Select(r => r.OldProcess))),
            cancellationToken);

        Console.WriteLine("-- 3. each stage in its own process (StageRunner, server GC)");
        await using (var rig = await PipelineRig.CreateAsync(partitions, serviceDefaults: true))
        {
            await MeasureAsProcessesAsync(rig, memoryRecords, partitions, cancellationToken);
        }

        Console.WriteLine($"done in {total.Elapsed.TotalSeconds:F0} s");
    }

    /// <summary>A fresh rig (the services' defaults), the three stages in this process (with <paramref name="settings"/> added to each, the ingest API on a loopback port), ingest ready.</summary>
    private static async Task InProcessAsync(
        int partitions,
        Dictionary<string, string?> settings,
        Func<PipelineRig, IngestApiClient, StoreWrites, Task> measure,
        CancellationToken cancellationToken)
    {
        await using var rig = await PipelineRig.CreateAsync(partitions, serviceDefaults: true);
        using var storeWrites = new StoreWrites();
        var ingest = await rig.StartAllAsync(settings, loopback: true, cancellationToken);
        await measure(rig, ingest.Api, storeWrites);
    }

    // ---- offering load ----

    /// <summary>What one phase offered: its runs, the users they asked for, when it started, how long triggering took.</summary>
    private sealed record Offer(List<Guid> Runs, int Offered, DateTime StartedAt, TimeSpan Offering);

    /// <summary>One run of rate/10 users every 100 ms (a refused trigger, while a run is still going, is retried at once).</summary>
    private static async Task<Offer> OfferAtFixedRateAsync(
        IngestApiClient ingest, ConcurrentDictionary<Guid, DateTime> stored, int rate, int seconds, CancellationToken cancellationToken)
    {
        var perTick = Math.Max(1, rate / 10);
        var runs = new List<Guid>();
        var storedBefore = stored.Count;
        var startedAt = DateTime.UtcNow;
        var clock = Stopwatch.StartNew();
        for (var tick = 0; tick < seconds * 10; tick++)
        {
            var due = Tick * tick - clock.Elapsed;
            if (due > TimeSpan.Zero)
            {
                await Task.Delay(due, cancellationToken);
            }

            runs.Add(await TriggerAsync(ingest, perTick, cancellationToken));
        }

        var offering = clock.Elapsed;
        await WaitForStoredAsync(() => stored.Count - storedBefore, runs.Count * perTick, cancellationToken);
        return new Offer(runs, runs.Count * perTick, startedAt, offering);
    }

    /// <summary>Runs of 2,500 users, triggered whenever fewer than 2,000 users per partition are in flight.</summary>
    private static async Task<Offer> OfferAtFullSpeedAsync(
        IngestApiClient ingest, Func<int> storedSoFar, int records, int partitions, CancellationToken cancellationToken)
    {
        var runs = new List<Guid>();
        var offered = 0;
        var startedAt = DateTime.UtcNow;
        var clock = Stopwatch.StartNew();
        while (offered < records)
        {
            var size = Math.Min(FullSpeedRunSize, records - offered);
            if (offered + size - storedSoFar() > partitions * InFlightPerPartition)
            {
                await Task.Delay(5, cancellationToken);
                continue;
            }

            runs.Add(await TriggerAsync(ingest, size, cancellationToken));
            offered += size;
        }

        var offering = clock.Elapsed;
        await WaitForStoredAsync(storedSoFar, offered, cancellationToken);
        return new Offer(runs, offered, startedAt, offering);
    }

    /// <summary>POST /runs {size}; while a run is in progress (409) the trigger is repeated at once (for up to a minute).</summary>
    private static async Task<Guid> TriggerAsync(IngestApiClient ingest, int size, CancellationToken cancellationToken) =>
        (await ingest.StartRunAsync(size, DrainTimeout, TimeSpan.FromMilliseconds(1), cancellationToken)).Id;

    /// <summary>Until <paramref name="expected"/> are stored, or nothing more arrived for 5 s (dead letters), or 60 s.</summary>
    private static async Task WaitForStoredAsync(Func<int> stored, int expected, CancellationToken cancellationToken)
    {
        var last = -1;
        var lastChange = Stopwatch.StartNew();
        var until = Stopwatch.StartNew();
        while (until.Elapsed < DrainTimeout)
        {
            var now = stored();
            if (now >= expected)
            {
                return;
            }

            if (now != last)
            {
                last = now;
                lastChange.Restart();
            }
            else if (lastChange.Elapsed > TimeSpan.FromSeconds(5))
            {
                return;
            }

            await Task.Delay(20, cancellationToken);
        }
    }

    // ---- figures and checks ----

    /// <summary>
    /// Writes <c>TestResults/bench/pipeline.json</c>: the new batching (batches close when the stream pauses) at the
    /// top level and the old one (open for their whole MaxWait) under <c>baseline</c>, both with the services' defaults.
    /// </summary>
    private static async Task WriteSummaryAsync(
        int rate,
        int repeats,
        string newIdleWait,
        (double Current, double Baseline) processShare,
        (Figures Fixed, Figures Full, (double Stage, double PassThrough) Process) current,
        (Figures Fixed, Figures Full, (double Stage, double PassThrough) Process) baseline,
        CancellationToken cancellationToken)
    {
        static Dictionary<string, object> Part(int rate, (Figures Fixed, Figures Full, (double Stage, double PassThrough) Process) figures) => new()
        {
            ["fixedRate"] = new Dictionary<string, object>
            {
                ["askedPerSecond"] = rate,
                ["offeredPerSecond"] = Math.Round(figures.Fixed.OfferedPerSecond),
                ["reached"] = Reached(figures.Fixed, rate),
                ["usersPerSecond"] = Math.Round(figures.Fixed.UsersPerSecond),
                ["p50Ms"] = figures.Fixed.P50Ms,
                ["p95Ms"] = figures.Fixed.P95Ms,
                ["p99Ms"] = figures.Fixed.P99Ms,
            },
            ["fullSpeed"] = new Dictionary<string, object>
            {
                ["usersPerSecond"] = Math.Round(figures.Full.UsersPerSecond),
                ["p50Ms"] = figures.Full.P50Ms,
                ["p95Ms"] = figures.Full.P95Ms,
                ["p99Ms"] = figures.Full.P99Ms,
            },
            ["process"] = new Dictionary<string, object>
            {
                ["stagePerSecond"] = Math.Round(figures.Process.Stage),
                ["passThroughPerSecond"] = Math.Round(figures.Process.PassThrough),
            },
        };

        var summary = Part(rate, current);
        ((Dictionary<string, object>)summary["process"])["shareOfPassThrough"] = Math.Round(processShare.Current, 3);
        summary["machine"] = Machine();
        summary["fetchWait"] = "the services' default (librdkafka's fetch.wait.max.ms 500); the patched mock answers a waiting fetch when data arrives, as Kafka does";
        summary["repeats"] = repeats;
        summary["figures"] = $"each figure the median over {repeats} repeat(s) of the comparison";
        summary["batching"] = $"closes when no next record arrives within Batch:IdleWait ({newIdleWait})";
        var old = Part(rate, baseline);
        old["batching"] = "open for the whole Batch:MaxWait (Batch:IdleWait = MaxWait)";
        ((Dictionary<string, object>)old["process"])["shareOfPassThrough"] = Math.Round(processShare.Baseline, 3);
        summary["baseline"] = old;

        var directory = Path.Combine(TestEnvironment.RepositoryRoot, "TestResults", "bench");
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, "pipeline.json");
        await File.WriteAllTextAsync(path, JsonSerializer.Serialize(summary, SummaryJson), cancellationToken);
        Console.WriteLine($"summary: {path}");
    }

    private static readonly JsonSerializerOptions SummaryJson = new() { WriteIndented = true };

    /// <summary>Each figure's median over the repeats (the middle value; the mean of the two middle ones for an even count).</summary>
    private static Figures Median(IEnumerable<Figures> repeats)
    {
        var all = repeats.ToList();
        return new Figures(
            Median(all.Select(f => f.OfferedPerSecond)), Median(all.Select(f => f.UsersPerSecond)),
            Median(all.Select(f => f.P50Ms)), Median(all.Select(f => f.P95Ms)), Median(all.Select(f => f.P99Ms)));
    }

    private static (double Stage, double PassThrough) Median(IEnumerable<(double Stage, double PassThrough)> repeats)
    {
        var all = repeats.ToList();
        return (Median(all.Select(r => r.Stage)), Median(all.Select(r => r.PassThrough)));
    }

    private static double Median(IEnumerable<double> values) => Statistics.Median(values);

    private static (int Gen0, int Gen1, int Gen2, TimeSpan Pause) _gcAtLastReport;
    private static GcPauses? _pauses;

    /// <summary>The garbage collections (of this process, which hosts all three stages) since the previous report.</summary>
    private static string GcSinceLastReport()
    {
        var now = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2), GC.GetTotalPauseDuration());
        var (gen0, gen1, gen2, pause) = (now.Item1 - _gcAtLastReport.Gen0, now.Item2 - _gcAtLastReport.Gen1, now.Item3 - _gcAtLastReport.Gen2, now.Item4 - _gcAtLastReport.Pause);
        _gcAtLastReport = now;
        return $"garbage collections since the last report: {gen0} gen0, {gen1} gen1, {gen2} gen2 (counted in every lower one), paused {pause.TotalMilliseconds:F0} ms in all; {_pauses?.SinceLastCall()}";
    }

    /// <summary>
    /// Each pause of the runtime for a garbage collection (from its GC events: suspension for a GC begun → execution
    /// restarted, by the events' own timestamps, since an in-process listener receives them a little later).
    /// </summary>
    private sealed class GcPauses : EventListener
    {
        private const int SuspendBegin = 9;
        private const int RestartEnd = 3;
        private const uint SuspendForGc = 1;     // GCSuspendEEBegin's Reason: the suspensions that are garbage collections
        private const uint SuspendForGcPrep = 6; // (the runtime also suspends for other work, tiered compilation's among them)
        private readonly ConcurrentQueue<double> _pauses = new();
        private DateTime _suspendedAt;

        /// <summary>The median and longest pause since the last call.</summary>
        public string SinceLastCall()
        {
            var pauses = new List<double>();
            while (_pauses.TryDequeue(out var pause))
            {
                pauses.Add(pause);
            }

            return pauses.Count == 0 ? "no pause seen" : $"per pause median {Statistics.Median(pauses):F1} ms, longest {pauses.Max():F1} ms";
        }

        protected override void OnEventSourceCreated(EventSource eventSource)
        {
            if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
            {
                EnableEvents(eventSource, EventLevel.Informational, (EventKeywords)0x1); // GC
            }
        }

        protected override void OnEventWritten(EventWrittenEventArgs eventData)
        {
            if (eventData.EventId == SuspendBegin && eventData.Payload is [uint reason, ..] && reason is SuspendForGc or SuspendForGcPrep)
            {
                _suspendedAt = eventData.TimeStamp;
            }
            else if (eventData.EventId == RestartEnd && _suspendedAt != default)
            {
                _pauses.Enqueue((eventData.TimeStamp - _suspendedAt).TotalMilliseconds);
                _suspendedAt = default;
            }
        }
    }

    /// <summary>What one scenario measured, for the summary file.</summary>
    private sealed record Figures(double OfferedPerSecond, double UsersPerSecond, double P50Ms, double P95Ms, double P99Ms);

    private static async Task<Figures> ReportAsync(
        string name, Offer offer, PipelineRig rig, StoreWrites timeline, CancellationToken cancellationToken)
    {
        var runs = await rig.Ingest.Api.WaitForRunsAsync(offer.Runs, cancellationToken);
        var rows = await RowsAsync(rig.Database, offer.Runs, cancellationToken);
        var latencies = new List<double>(rows.Count);
        var hops = new List<(double Total, double ToProcessor, double ToSink, double ToStore)>(rows.Count);
        var lastStored = offer.StartedAt;
        foreach (var (id, ingestedAt) in rows)
        {
            if (timeline.Stored.TryGetValue(id, out var at))
            {
                var total = (at - ingestedAt.UtcDateTime).TotalMilliseconds;
                latencies.Add(total);
                lastStored = at > lastStored ? at : lastStored;
                if (timeline.Hops(id) is var (processed, sinkConsumed))
                {
                    hops.Add((total, (processed - ingestedAt.UtcDateTime).TotalMilliseconds, (sinkConsumed - processed).TotalMilliseconds, (at - sinkConsumed).TotalMilliseconds));
                }
            }
        }

        var elapsed = (lastStored - offer.StartedAt).TotalSeconds;
        Console.WriteLine(
            $"{name}: offered {offer.Offered:N0} users in {offer.Offering.TotalSeconds:F1} s ({offer.Offered / offer.Offering.TotalSeconds:N0}/s, {offer.Runs.Count} runs); " +
            $"stored {rows.Count:N0} in {elapsed:F1} s = {rows.Count / elapsed:N0} users/s end to end");
        latencies.Sort();
        Console.WriteLine($"  latency ingested → stored (ms, {latencies.Count:N0} users): {Percentiles(latencies)}");
        Console.WriteLine($"  {WhereTheTimeGoes(hops)}" + (timeline.SharedTraces > 0 ? $" (NOTE: {timeline.SharedTraces:N0} users shared a trace id with another: the hops are not reliable)" : ""));
        Console.WriteLine($"  {timeline.BatchesSinceLastCall()}");
        Console.WriteLine($"  {GcSinceLastReport()}");
        CheckNothingLost(name, runs, rows.Count, latencies.Count, rig.DeadLetterCodes(runs));
        return new Figures(
            offer.Offered / offer.Offering.TotalSeconds,
            rows.Count / elapsed,
            Math.Round(Percentile(latencies, 0.50), 1),
            Math.Round(Percentile(latencies, 0.95), 1),
            Math.Round(Percentile(latencies, 0.99), 1));
    }

    /// <summary>
    /// The latency's three hops (ingested → routed by the processor as it was consumed → taken up by the sink, when
    /// the sink's batch holding it closed → stored): each hop's p50 and p99 over all users, and its mean over the
    /// slowest 1 % of users (what the p99 is made of). The middle hop holds the processor's transaction and the sink's
    /// batch wait.
    /// </summary>
    private static string WhereTheTimeGoes(List<(double Total, double ToProcessor, double ToSink, double ToStore)> hops)
    {
        if (hops.Count == 0)
        {
            return "hops: none timed";
        }

        var p99 = Percentile([.. hops.Select(h => h.Total).Order()], 0.99);
        var tail = hops.Where(h => h.Total >= p99).ToList();
        string Hop(string name, Func<(double Total, double ToProcessor, double ToSink, double ToStore), double> hop)
        {
            var sorted = hops.Select(hop).Order().ToList();
            return $"{name} p50 {Percentile(sorted, 0.50):F0} / p99 {Percentile(sorted, 0.99):F0} (slowest 1 %: {tail.Average(hop):F0})";
        }

        return "hops (ms): " + string.Join("; ", Hop("ingested → processor", h => h.ToProcessor), Hop("processor → sink's batch", h => h.ToSink), Hop("sink's batch → stored", h => h.ToStore)) +
            $"; the slowest 1 % is {tail.Count:N0} users";
    }

    /// <summary>Whether the machine offered the fixed rate asked for (within 5 %).</summary>
    private static bool Reached(Figures figures, int rate) => figures.OfferedPerSecond >= rate * 0.95;

    /// <summary>Says so when the machine could not offer the fixed rate asked for.</summary>
    private static void CheckOfferedRate(Figures figures, int rate)
    {
        if (!Reached(figures, rate))
        {
            Console.WriteLine($"  NOTE: the machine offered only {figures.OfferedPerSecond:N0} users/s of the {rate:N0}/s asked for: the latencies are at that rate");
        }
        else
        {
            Console.WriteLine($"  offered rate reached: {figures.OfferedPerSecond:N0} of {rate:N0} users/s");
        }
    }

    private static void CheckNothingLost(string name, List<RunView> runs, int rows, int timed, List<string> deadLetters)
    {
        var produced = runs.Sum(r => r.Produced);
        var failedRuns = runs.Count(r => r.Status != "succeeded");
        var reasons = string.Join(", ", deadLetters.GroupBy(d => d).Select(g => $"{g.Key} ×{g.Count()}"));
        Console.WriteLine(
            $"  check: {runs.Count} runs, {failedRuns} not succeeded; produced {produced:N0} = stored {rows:N0} + dead-lettered {deadLetters.Count:N0}" +
            (deadLetters.Count > 0 ? $" ({reasons})" : ""));
        if (failedRuns > 0 || produced != rows + deadLetters.Count || timed != rows)
        {
            throw new InvalidOperationException(
                $"{name}: records lost or doubled: produced {produced}, stored {rows} ({timed} seen stored), dead-lettered {deadLetters.Count}, {failedRuns} runs not succeeded");
        }
    }

    /// <summary>p50, p95, p99 and max of <paramref name="sorted"/> (sorted ascending).</summary>
    private static string Percentiles(List<double> sorted) => sorted.Count == 0
        ? "none"
        : $"p50 {Percentile(sorted, 0.50):F0}, p95 {Percentile(sorted, 0.95):F0}, p99 {Percentile(sorted, 0.99):F0}, max {sorted[^1]:F0}";

    /// <summary>The nearest-rank percentile <paramref name="p"/> of <paramref name="sorted"/> (sorted ascending); NaN when empty.</summary>
    private static double Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];

    private static async Task<List<(Guid Id, DateTimeOffset IngestedAt)>> RowsAsync(PostgresTestDatabase database, List<Guid> runs, CancellationToken cancellationToken)
    {
        await using var source = database.CreateDataSource();
        await using var command = source.CreateCommand("SELECT id, ingested_at FROM created_users WHERE run_id = ANY($1)");
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. runs.Select(r => r.ToString())] });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new List<(Guid, DateTimeOffset)>();
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add((reader.GetGuid(0), reader.GetFieldValue<DateTimeOffset>(1)));
        }

        return rows;
    }

    // ---- phase 3: one process per stage ----

    private static async Task MeasureAsProcessesAsync(
        PipelineRig rig, int records, int partitions, CancellationToken cancellationToken)
    {
        var port = StageProcess.FreePort();
        var ingestSettings = rig.IngestSettings();
        ingestSettings["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        var stages = new (string Name, Dictionary<string, string?> Settings)[]
        {
            ("ingest", ingestSettings),
            ("process", rig.ProcessSettings()),
            ("sink", rig.SinkSettings()),
        };
        var children = new List<(string Name, StageProcess Process)>();
        foreach (var (name, settings) in stages)
        {
            settings["DOTNET_gcServer"] = "1";
            settings["Logging:LogLevel:Default"] = "Warning";
            children.Add((name, rig.StartProcess(name, settings)));
        }

        using var ingest = new IngestApiClient(new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") });
        await ingest.WaitUntilReadyAsync(output: () => children[0].Process.RecentOutput(), cancellationToken: cancellationToken);
        await using var source = rig.Database.CreateDataSource();
        var stored = 0L;
        var lastRowSeenAt = DateTime.UtcNow;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var counting = Task.Run(
            async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    var count = await PipelineRig.RowCountAsync(source, CancellationToken.None);
                    if (count != Volatile.Read(ref stored))
                    {
                        lastRowSeenAt = DateTime.UtcNow;
                        Volatile.Write(ref stored, count);
                    }

                    await Task.Delay(50, CancellationToken.None);
                }
            },
            CancellationToken.None);

        // Warm-up: every stage has joined its group, initialised its clients and compiled its hot paths.
        await TriggerAsync(ingest, FullSpeedRunSize, cancellationToken);
        await WaitForStoredAsync(() => (int)Volatile.Read(ref stored), FullSpeedRunSize, cancellationToken);
        var before = (int)Volatile.Read(ref stored);

        var offer = await OfferAtFullSpeedAsync(ingest, () => (int)Volatile.Read(ref stored) - before, records, partitions, cancellationToken);
        await stop.CancelAsync();
        await counting;
        var elapsed = lastRowSeenAt - offer.StartedAt;

        var rows = (await RowsAsync(rig.Database, offer.Runs, cancellationToken)).Count;
        Console.WriteLine(
            $"full speed as three processes: stored {rows:N0} in {elapsed.TotalSeconds:F1} s = {rows / elapsed.TotalSeconds:N0} users/s end to end " +
            "(the last row seen by polling every 50 ms)");
        Console.WriteLine("  peak memory (VmHWM): " + string.Join(", ", children.Select(c => $"{c.Name} {c.Process.MemoryMiB():F0} MiB")));
        var runs = await ingest.WaitForRunsAsync(offer.Runs, cancellationToken);
        CheckNothingLost("three processes", runs, rows, rows, rig.DeadLetterCodes(runs));
    }

    // ---- setup ----

    private static string Machine()
    {
        var memory = File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal:", StringComparison.Ordinal));
        var gib = long.Parse(memory["MemTotal:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024.0 / 1024.0;
        var os = File.Exists("/etc/os-release")
            ? File.ReadLines("/etc/os-release").FirstOrDefault(l => l.StartsWith("PRETTY_NAME=", StringComparison.Ordinal))?["PRETTY_NAME=".Length..].Trim('"')
            : null;
        return $"{Environment.ProcessorCount} cores, {gib:F1} GiB, {os ?? RuntimeInformation.OSDescription}, {RuntimeInformation.FrameworkDescription}";
    }

    private static async Task<string> ServerVersionAsync()
    {
        await using var database = await PostgresTestDatabase.CreateAsync();
        await using var source = database.CreateDataSource();
        await using var command = source.CreateCommand("SHOW server_version");
        return (string)(await command.ExecuteScalarAsync())!;
    }


    /// <summary>
    /// When the processor routed each user (as it consumed it), when the sink's batch holding it closed, and when the
    /// store confirmed its row (UTC), from the stages' spans: the start of each stage's <c>process {topic}</c> span and
    /// the end of the sink's per-record <c>store write</c> span. They are matched by the record's trace id, which is the
    /// record's own here: nothing listens to <c>UserStream.Ingest</c>, so the ingestor writes no trace context and the
    /// processor starts a trace per record, which the sink continues. Were an ingest listener added, a run's records
    /// would share the run's trace; <see cref="SharedTraces"/> counts stored users whose trace another user had.
    /// </summary>
    private sealed class StoreWrites : IDisposable
    {
        private readonly ActivityListener _listener;
        private readonly MeterListener _meters = new();
        private long _processBatches, _processRecords, _sinkBatches, _sinkRecords;
        private readonly ConcurrentDictionary<ActivityTraceId, DateTime> _processed = new();
        private readonly ConcurrentDictionary<ActivityTraceId, DateTime> _sinkConsumed = new();
        private readonly ConcurrentDictionary<Guid, ActivityTraceId> _traces = new();
        private readonly ConcurrentDictionary<ActivityTraceId, Guid> _traceUsers = new();
        private long _sharedTraces;

        public StoreWrites()
        {
            _listener = new ActivityListener
            {
                ShouldListenTo = source => source.Name is StageTelemetry.Sink or StageTelemetry.Process,
                // The processor's spans only for their start (no tags); the sink's with their tags (the user id).
                Sample = (ref ActivityCreationOptions<ActivityContext> options) => options.Source.Name == StageTelemetry.Sink
                    ? ActivitySamplingResult.AllDataAndRecorded
                    : ActivitySamplingResult.PropagationData,
                ActivityStarted = span =>
                {
                    if (span.Kind == ActivityKind.Consumer)
                    {
                        (span.Source.Name == StageTelemetry.Sink ? _sinkConsumed : _processed).TryAdd(span.TraceId, span.StartTimeUtc);
                    }
                },
                ActivityStopped = span =>
                {
                    if (span is { DisplayName: "store write", Kind: ActivityKind.Internal } && span.GetTagItem("userstream.user.id") is string id)
                    {
                        var user = Guid.Parse(id);
                        _traces.TryAdd(user, span.TraceId);
                        if (!_traceUsers.TryAdd(span.TraceId, user) && _traceUsers[span.TraceId] != user)
                        {
                            Interlocked.Increment(ref _sharedTraces);
                        }

                        Stored.TryAdd(user, span.StartTimeUtc + span.Duration);
                    }
                },
            };
            ActivitySource.AddActivityListener(_listener);

            // The processor's records per transaction and the sink's records per consumed batch (their batch.size histograms).
            _meters.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Name is ProcessMetrics.BatchSizeName or SinkMetrics.BatchSizeName)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _meters.SetMeasurementEventCallback<int>((instrument, records, _, _) =>
            {
                if (instrument.Name == ProcessMetrics.BatchSizeName)
                {
                    Interlocked.Increment(ref _processBatches);
                    Interlocked.Add(ref _processRecords, records);
                }
                else
                {
                    Interlocked.Increment(ref _sinkBatches);
                    Interlocked.Add(ref _sinkRecords, records);
                }
            });
            _meters.Start();
        }

        /// <summary>The processor's transactions and the sink's batches since the last call, with their mean sizes.</summary>
        public string BatchesSinceLastCall()
        {
            var (processBatches, processRecords) = (Interlocked.Exchange(ref _processBatches, 0), Interlocked.Exchange(ref _processRecords, 0));
            var (sinkBatches, sinkRecords) = (Interlocked.Exchange(ref _sinkBatches, 0), Interlocked.Exchange(ref _sinkRecords, 0));
            return $"batches: processor {processBatches:N0} transactions of {(processBatches == 0 ? 0 : processRecords / (double)processBatches):F0} records on average, " +
                $"sink {sinkBatches:N0} of {(sinkBatches == 0 ? 0 : sinkRecords / (double)sinkBatches):F0}";
        }

        /// <summary>Per user id, when the store confirmed its row (UTC).</summary>
        public ConcurrentDictionary<Guid, DateTime> Stored { get; } = new();

        /// <summary>Stored users whose trace id another stored user had (then the hops are not each user's own).</summary>
        public long SharedTraces => Interlocked.Read(ref _sharedTraces);

        /// <summary>When the processor routed the stored user and when the sink's batch holding it closed (the first delivery of each).</summary>
        public (DateTime Processed, DateTime SinkConsumed)? Hops(Guid user) =>
            _traces.TryGetValue(user, out var trace) && _processed.TryGetValue(trace, out var processed) && _sinkConsumed.TryGetValue(trace, out var consumed)
                ? (processed, consumed)
                : null;

        public void Dispose()
        {
            _meters.Dispose();
            _listener.Dispose();
        }
    }
}
