using UserStream.Sink.Store;
using UserStream.Streaming.DeadLettering;
using UserStream.Streaming.Tracing;
using UserStream.Tests.Pipeline;
using UserStream.Tests.Process;

namespace UserStream.Tests.DeadLetters;

/// <summary>
/// Replays through the whole pipeline (mock cluster, processor, sink, PostgreSQL): once the cause of a rejection is
/// fixed, its dead letters are sent back and stored, each exactly once, also when asked twice and when the replayer
/// is killed mid-replay; the sink's own rejects go back to users_enriched.
/// </summary>
public sealed class DeadLetterReplayTests(ITestOutputHelper output)
{
    private static readonly string ReplayedMetric = $"{StageTelemetry.Process.ToLowerInvariant()}.{DeadLetterReplayer.ReplayedMetricSuffix}";

    [Fact]
    public async Task Raising_the_limit_and_replaying_its_code_stores_exactly_those_users_once_and_asking_again_sends_nothing()
    {
        using var spans = new SpanCollector();
        using var metrics = new StageMetrics();
        await using var rig = await PipelineRig.CreateAsync();
        await rig.StartSinkAsync(cancellationToken: Ct);
        var strict = await rig.StartProcessorAsync(DeadLetterFeed.ProcessSettings(rig), cancellationToken: Ct);
        await DeadLetterFeed.ProduceBadInputsAsync(rig);
        var longNames = await DeadLetterFeed.ProduceLongNamesAsync(rig, 4);
        var tooLong = BadInputs.All.Where(c => c.Code == "field_too_long").Select(c => Guid.Parse(c.Key!)).Concat(longNames).ToList();
        var deadLetters = rig.Read(Topics.DeadLetter, 49);
        Assert.Equal(49, deadLetters.Count);
        Assert.Equal(5, deadLetters.Count(d => d.Message.Headers.GetString(DeadLetterHeaders.ErrorCode) == "field_too_long"));
        Assert.Equal(0, await rig.RowCountAsync(cancellationToken: Ct));

        // The cause fixed: the processor restarted with a longer field limit.
        await strict.StopAsync(Ct);
        var relaxed = await rig.StartProcessorAsync(DeadLetterFeed.ProcessSettings(rig, maxFieldLength: 1_024), cancellationToken: Ct);
        var api = new DeadLetterApi(relaxed.CreateClient());

        Assert.Equal(new ReplayResultDto(5, 2, 0, 3), await api.ReplayAsync("""{"code":"field_too_long","max":2}"""));
        Assert.Equal(new ReplayResultDto(5, 3, 2, 0), await api.ReplayAsync("""{"code":"field_too_long"}"""));
        Assert.Equal(5, await rig.WaitForRowsAsync(5, cancellationToken: Ct));
        Assert.Equal(tooLong.Order(), (await rig.StoredUsersAsync(cancellationToken: Ct)).Select(u => u.Id).Order());

        // Asked again: nothing sent twice.
        Assert.Equal(new ReplayResultDto(5, 0, 5, 0), await api.ReplayAsync("""{"code":"field_too_long"}"""));
        await Task.Delay(TimeSpan.FromSeconds(1), Ct);
        Assert.Equal(5, await rig.RowCountAsync(cancellationToken: Ct));
        var replayed = DeadLetterFeed.Replayed(rig, Topics.UsersCreated);
        Assert.Equal(5, replayed.Count);
        ProcessStageHarness.AssertExactlyOnce(tooLong, rig.ReadToEnd(Topics.UsersEnriched));

        // The others are untouched: still in the DLQ, never replayed; no new dead letter.
        Assert.Equal(49, rig.ReadToEnd(Topics.DeadLetter).Count);
        var summary = await api.SummaryAsync();
        Assert.Equal(49, summary.Total);
        Assert.Equal(5, summary.Counts.Single(c => c.Code == "field_too_long").Count);
        var markers = rig.ReadToEnd(Topics.DeadLetterReplays);
        Assert.Equal(replayed.Select(r => r.Message.Headers.GetString(ReplayHeaders.ReplayOf)).Order(), markers.Select(m => m.Message.Key).Order());
        Assert.All(markers, m => Assert.Equal(Topics.UsersCreated, JsonDocument.Parse(m.Message.Value).RootElement.GetProperty("to").GetString()));

        // Byte-identical key and value, the original headers without dlq-*, saying which dead letter each replays.
        var byId = deadLetters.ToDictionary(d => DeadLetter.IdOf(d.Topic, d.Partition.Value, d.Offset.Value));
        foreach (var record in replayed)
        {
            var letter = byId[record.Message.Headers.GetString(ReplayHeaders.ReplayOf)!];
            Assert.Equal(letter.Message.Key, record.Message.Key);
            Assert.Equal(letter.Message.Value, record.Message.Value);
            Assert.Equal("1", record.Message.Headers.GetString(ReplayHeaders.ReplayCount));
            Assert.DoesNotContain(record.Message.Headers, h => h.Key.StartsWith("dlq-", StringComparison.Ordinal));
            Assert.Equal(letter.Message.Headers.GetString(PipelineHeaders.RunId), record.Message.Headers.GetString(PipelineHeaders.RunId));
        }

        // Metrics and traces: replayed{code}; a root span per replayed record, linked to its dead letter's trace.
        Assert.Equal(5, metrics.Sum(relaxed, ReplayedMetric));
        var letterTraces = replayed.ToDictionary(
            r => KafkaTracing.Extract(byId[r.Message.Headers.GetString(ReplayHeaders.ReplayOf)!].Message.Headers).TraceId,
            r => KafkaTracing.Extract(r.Message.Headers).TraceId);
        Assert.Equal(5, letterTraces.Count);
        var replaySpans = spans.Spans
            .Where(s => s.OperationName == $"replay {Topics.DeadLetter}" && s.Links.Any(l => letterTraces.ContainsKey(l.Context.TraceId)))
            .ToList();
        Assert.Equal(5, replaySpans.Count);
        foreach (var span in replaySpans)
        {
            Assert.Equal(default, span.ParentSpanId);
            Assert.Equal("field_too_long", span.GetTagItem("userstream.dead_letter.code"));
            var link = Assert.Single(span.Links);
            Assert.Equal(letterTraces[link.Context.TraceId], span.TraceId);
            Assert.NotEqual(link.Context.TraceId, span.TraceId);
            Assert.Contains(spans.Trace(span.TraceId), s => s.OperationName.StartsWith("process ", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task A_replayer_killed_mid_replay_and_asked_again_replays_each_dead_letter_exactly_once()
    {
        const int count = 60;
        await using var rig = await PipelineRig.CreateAsync();
        var strict = await rig.StartProcessorAsync(DeadLetterFeed.ProcessSettings(rig), cancellationToken: Ct);
        var ids = await DeadLetterFeed.ProduceLongNamesAsync(rig, count);
        Assert.Equal(count, rig.Read(Topics.DeadLetter, count).Count);
        await strict.StopAsync(Ct);

        // The replayer in a processor of its own process, one dead letter per transaction, on slow brokers.
        var (killed, killedApi) = await StartProcessorProcessAsync(rig);
        rig.Broker.SetLatency(30);
        int markersAtKill;
        try
        {
            var replay = killedApi.PostReplayAsync("""{"code":"field_too_long"}""");
            var started = await Eventually.TrueAsync(
                () => DeadLetterFeed.Replayed(rig, Topics.UsersCreated).Count >= 5, TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(50), cancellationToken: Ct);
            Assert.True(started, $"the replay never committed 5 dead letters:\n{killed.RecentOutput()}");
            killed.Kill();
            await Assert.ThrowsAnyAsync<Exception>(() => replay);
        }
        finally
        {
            rig.Broker.SetLatency(0);
        }

        // What the killed replay committed: its records in users_created (read committed), each with its marker.
        markersAtKill = DeadLetterFeed.Replayed(rig, Topics.UsersCreated).Count;
        Assert.InRange(markersAtKill, 5, count - 1);

        var (_, api) = await StartProcessorProcessAsync(rig);
        var result = await api.ReplayAsync("""{"code":"field_too_long"}""");
        output.WriteLine($"{count} dead letters; the replayer was killed (SIGKILL) after committing {markersAtKill}; asked again: {result}");

        Assert.Equal(count, result.Selected);
        Assert.Equal(markersAtKill, result.Skipped);
        Assert.Equal(count - markersAtKill, result.Sent);
        Assert.Equal(0, result.Remaining);
        var replayOf = DeadLetterFeed.Replayed(rig, Topics.UsersCreated).Select(r => r.Message.Headers.GetString(ReplayHeaders.ReplayOf)!).ToList();
        Assert.Equal(count, replayOf.Count);
        Assert.Equal(count, replayOf.Distinct().Count());
        var markers = rig.ReadToEnd(Topics.DeadLetterReplays).Select(m => m.Message.Key).ToList();
        Assert.Equal(replayOf.Order(), markers.Order());
        var outputs = await Eventually.Async(() => Task.FromResult(rig.ReadToEnd(Topics.UsersEnriched)), o => o.Count >= count, PipelineRig.StreamTimeout, cancellationToken: Ct);
        ProcessStageHarness.AssertExactlyOnce(ids, outputs);
    }

    [Fact]
    public async Task Sink_rejects_replayed_to_users_enriched_after_the_store_is_fixed_are_stored_once()
    {
        await using var rig = await PipelineRig.CreateAsync();
        var sink = await rig.StartSinkAsync(cancellationToken: Ct);
        var processor = await rig.StartProcessorAsync(cancellationToken: Ct);
        await Eventually.Async(() => Task.FromResult(sink.Services.GetRequiredService<StoreReadiness>().IsReady), ready => ready, cancellationToken: Ct);
        var ids = Enumerable.Range(0, 20).Select(_ => Guid.NewGuid()).ToList();
        var refused = ids.Where((_, i) => i % 7 == 3).ToList();
        var refusedList = string.Join(", ", refused.Select(id => $"'{id}'::uuid"));

        // A trigger that refuses some users (SQLSTATE P0001): the sink dead-letters them as store_rejected.
        await ExecuteAsync(rig, $"""
            CREATE OR REPLACE FUNCTION refuse_some() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.id IN ({refusedList}) THEN RAISE EXCEPTION 'refused user %', NEW.id; END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER refuse_some BEFORE INSERT OR UPDATE ON created_users FOR EACH ROW EXECUTE FUNCTION refuse_some();
            """);
        await KafkaTopicReader.ProduceAsync(rig.BootstrapServers, Topics.UsersCreated, ids.Select(id => RandomUserJson.Record(id)), Ct);
        var rejects = rig.Read(Topics.DeadLetter, refused.Count);
        Assert.Equal(refused.Count, rejects.Count);
        Assert.All(rejects, r =>
        {
            Assert.Equal("store_rejected", r.Message.Headers.GetString(DeadLetterHeaders.ErrorCode));
            Assert.Equal("sink", r.Message.Headers.GetString(DeadLetterHeaders.Stage));
            Assert.Equal(Topics.UsersEnriched, r.Message.Headers.GetString(DeadLetterHeaders.SourceTopic));
        });
        Assert.Equal(ids.Count - refused.Count, await rig.WaitForRowsAsync(ids.Count - refused.Count, cancellationToken: Ct));

        // The store fixed, the sink's rejects are replayed to users_enriched and stored, once.
        await ExecuteAsync(rig, "DROP TRIGGER refuse_some ON created_users");
        var api = new DeadLetterApi(processor.CreateClient());
        Assert.Equal(refused.Count, (await api.SummaryAsync()).Counts.Single(c => c is { Stage: "sink", Code: "store_rejected" }).Count);
        Assert.Equal(new ReplayResultDto(refused.Count, refused.Count, 0, 0), await api.ReplayAsync("""{"stage":"sink","code":"store_rejected"}"""));

        Assert.Equal(ids.Count, await rig.WaitForRowsAsync(ids.Count, cancellationToken: Ct));
        Assert.Equal(ids.Order(), (await rig.StoredUsersAsync(cancellationToken: Ct)).Select(u => u.Id).Order());
        var replayed = DeadLetterFeed.Replayed(rig, Topics.UsersEnriched);
        Assert.Equal(refused.Select(id => id.ToString("D")).Order(), replayed.Select(r => r.Message.Key).Order());
        Assert.All(replayed, r => Assert.Equal(rejects.Single(d => d.Message.Key == r.Message.Key).Message.Value, r.Message.Value));
        Assert.Equal(new ReplayResultDto(refused.Count, 0, refused.Count, 0), await api.ReplayAsync("""{"stage":"sink"}"""));
        Assert.Equal(refused.Count, rig.ReadToEnd(Topics.DeadLetter).Count);
    }

    /// <summary>A processor in a child process with the default field limit and one dead letter per replay transaction, once its API answers.</summary>
    private static async Task<(StageProcess Process, DeadLetterApi Api)> StartProcessorProcessAsync(PipelineRig rig)
    {
        var port = StageProcess.FreePort();
        var settings = DeadLetterFeed.ProcessSettings(rig, maxFieldLength: 1_024);
        settings["Process:DeadLetters:ReplayBatchSize"] = "1";
        settings["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        var process = rig.StartProcessorProcess(settings);
        var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromMinutes(2) };
        var up = await Eventually.Async(
            async () =>
            {
                try
                {
                    using var response = await http.GetAsync(new Uri("/dead-letters/summary", UriKind.Relative), Ct);
                    return response.IsSuccessStatusCode;
                }
                catch (HttpRequestException)
                {
                    return false;
                }
            },
            ok => ok,
            TimeSpan.FromSeconds(60),
            TimeSpan.FromMilliseconds(200));
        Assert.True(up, $"the processor's API never answered:\n{process.RecentOutput()}");
        return (process, new DeadLetterApi(http));
    }

    private static async Task ExecuteAsync(PipelineRig rig, string sql)
    {
        await using var source = rig.Database.CreateDataSource();
        await using var command = source.CreateCommand(sql);
        await command.ExecuteNonQueryAsync(Ct);
    }
}
