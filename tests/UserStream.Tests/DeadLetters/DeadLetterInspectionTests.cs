using Confluent.Kafka.Admin;
using Microsoft.Extensions.Options;
using UserStream.Streaming.DeadLettering;
using UserStream.Streaming.Hosting;
using UserStream.Tests.Pipeline;
using UserStream.Tests.Process;

namespace UserStream.Tests.DeadLetters;

/// <summary>
/// The processor's dead-letter API over the 45 bad inputs of the processor's table (<see cref="BadInputs"/>): what
/// it lists and counts, that looking commits nothing, that a replay of records still invalid does not loop, and how
/// it answers requests it cannot serve.
/// </summary>
public sealed class DeadLetterInspectionTests(ITestOutputHelper output)
{
    private const string Key = "dead-letter-test-key-0123456789";
    [Fact]
    public async Task The_45_bad_inputs_are_listed_newest_first_and_counted_by_stage_and_code_and_looking_commits_nothing()
    {
        await using var rig = await PipelineRig.CreateAsync();
        var processor = await rig.StartProcessorAsync(DeadLetterFeed.ProcessSettings(rig), cancellationToken: Ct);
        await DeadLetterFeed.ProduceBadInputsAsync(rig);
        Assert.Equal(BadInputs.All.Count, rig.Read(Topics.DeadLetter, BadInputs.All.Count).Count);
        var api = new DeadLetterApi(processor.CreateClient());

        var page = await api.ListAsync("?limit=500");
        Assert.True(page.Complete);
        Assert.Equal(45, page.Items.Count);
        Assert.Equal(
            BadInputs.All.Select(c => $"{c.Key}|{c.Code}|{c.Value?.Length ?? 0}").Order(),
            page.Items.Select(i => $"{i.Key}|{i.Code}|{i.ValueSize}").Order());
        Assert.All(page.Items, item =>
        {
            Assert.Equal("process", item.Stage);
            Assert.Equal(Topics.UsersCreated, item.SourceTopic);
            Assert.NotNull(item.SourcePartition);
            Assert.NotNull(item.SourceOffset);
            Assert.NotNull(item.FailedAt);
            Assert.False(string.IsNullOrWhiteSpace(item.Reason));
            Assert.Equal($"{Topics.DeadLetter}/{item.Partition}/{item.Offset}", item.Id);
            Assert.True(Encoding.UTF8.GetByteCount(item.ValuePreview ?? "") <= 3 * new DeadLetterOptions().PreviewBytes);
            Assert.True((item.ValuePreview?.Length ?? 0) <= new DeadLetterOptions().PreviewBytes);
            Assert.Equal(0, item.ReplayCount);
        });
        var large = page.Items.Single(i => i.Code == "too_large");
        Assert.True(large.ValueSize > BadInputs.MaxRecordBytes);
        Assert.Equal(new DeadLetterOptions().PreviewBytes, large.ValuePreview!.Length);
        Assert.True(page.Items.Zip(page.Items.Skip(1)).All(p => p.First.FailedAt >= p.Second.FailedAt), "newest first");

        var notJson = await api.ListAsync("?code=not_json&stage=process");
        Assert.Equal(BadInputs.All.Count(c => c.Code == "not_json"), notJson.Items.Count);
        Assert.Empty((await api.ListAsync("?stage=sink")).Items);
        var newest = await api.ListAsync("?limit=3");
        Assert.Equal(3, newest.Items.Count);
        Assert.True(newest.Items.Min(i => i.FailedAt) >= page.Items.Skip(3).Max(i => i.FailedAt));
        Assert.Equal(20, (await api.ListAsync()).Items.Count);

        var summary = await api.SummaryAsync();
        Assert.True(summary.Complete);
        Assert.Equal(45, summary.Total);
        Assert.Equal(
            BadInputs.All.GroupBy(c => c.Code).Select(g => $"process|{g.Key}|{g.Count()}").Order(),
            summary.Counts.Select(c => $"{c.Stage}|{c.Code}|{c.Count}").Order());
        output.WriteLine($"45 bad inputs: {string.Join(", ", summary.Counts.Select(c => $"{c.Code} {c.Count}"))}");

        // Looking commits nothing: the readers' group holds no offset.
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = rig.BootstrapServers }).Build();
        var partitions = KafkaTopicReader.PartitionsOf(rig.BootstrapServers, Topics.DeadLetter).Select(p => new TopicPartition(Topics.DeadLetter, p)).ToList();
        var committed = await admin.ListConsumerGroupOffsetsAsync([new ConsumerGroupTopicPartitions("userstream-dead-letter-reader", partitions)]);
        Assert.All(committed.Single().Partitions, p => Assert.Equal(Offset.Unset, p.Offset));
    }

    [Fact]
    public async Task A_read_bounded_in_records_says_it_is_incomplete()
    {
        await using var rig = await PipelineRig.CreateAsync();
        await using var processor = await rig.StartProcessorAsync(DeadLetterFeed.ProcessSettings(rig), cancellationToken: Ct);
        await DeadLetterFeed.ProduceBadInputsAsync(rig);
        Assert.Equal(45, rig.Read(Topics.DeadLetter, 45).Count);
        var reader = new DeadLetterReader(
            new KafkaClientFactory(Options.Create(new KafkaOptions { BootstrapServers = rig.BootstrapServers })),
            Topics.DeadLetter, new DeadLetterOptions { ReadMaxRecords = 10, ReadChunkSize = 4 }, TimeProvider.System);

        var page = reader.List(DeadLetterFilter.All, 100, Ct);
        var summary = reader.Summarize(Ct);

        Assert.False(page.Complete);
        Assert.Equal(10, page.Scanned);
        Assert.Equal(10, page.Items.Count);
        Assert.False(summary.Complete);
        Assert.Equal(10, summary.Total);
    }

    [Fact]
    public async Task A_replayed_record_still_invalid_is_dead_lettered_once_more_with_replay_count_1_and_nothing_replays_on_its_own()
    {
        await using var rig = await PipelineRig.CreateAsync();
        var processor = await rig.StartProcessorAsync(DeadLetterFeed.ProcessSettings(rig), cancellationToken: Ct);
        await DeadLetterFeed.ProduceBadInputsAsync(rig);
        var originals = rig.Read(Topics.DeadLetter, 45).ToDictionary(r => DeadLetter.IdOf(r.Topic, r.Partition.Value, r.Offset.Value));
        var api = new DeadLetterApi(processor.CreateClient());
        var notJson = originals.Where(o => o.Value.Message.Headers.GetString(DeadLetterHeaders.ErrorCode) == "not_json").ToDictionary();

        var result = await api.ReplayAsync("""{"code":"not_json"}""");

        Assert.Equal(new ReplayResultDto(notJson.Count, notJson.Count, 0, 0), result);
        var all = rig.Read(Topics.DeadLetter, 45 + notJson.Count, TimeSpan.FromSeconds(2));
        Assert.Equal(45 + notJson.Count, all.Count);
        var again = all.Where(r => r.Message.Headers.GetString(ReplayHeaders.ReplayCount) is not null).ToList();
        Assert.Equal(notJson.Count, again.Count);
        Assert.Equal(notJson.Keys.Order(), again.Select(r => r.Message.Headers.GetString(ReplayHeaders.ReplayOf)!).Order());
        foreach (var letter in again)
        {
            var original = notJson[letter.Message.Headers.GetString(ReplayHeaders.ReplayOf)!];
            Assert.Equal("1", letter.Message.Headers.GetString(ReplayHeaders.ReplayCount));
            Assert.Equal("not_json", letter.Message.Headers.GetString(DeadLetterHeaders.ErrorCode));
            Assert.Equal(original.Message.Key, letter.Message.Key);
            Assert.Equal(original.Message.Value, letter.Message.Value);
            Assert.Equal(original.Message.Headers.GetString(DeadLetterFeed.CaseHeader), letter.Message.Headers.GetString(DeadLetterFeed.CaseHeader));
        }

        var replayed = DeadLetterFeed.Replayed(rig, Topics.UsersCreated);
        Assert.Equal(notJson.Count, replayed.Count);
        Assert.All(replayed, r => Assert.DoesNotContain(r.Message.Headers, h => h.Key.StartsWith("dlq-", StringComparison.Ordinal)));
        Assert.All(replayed, r => Assert.NotNull(r.Message.Headers.GetString(DeadLetterFeed.CaseHeader)));

        // Nothing replays on its own: a while later the topics hold just as much.
        await Task.Delay(TimeSpan.FromSeconds(2), Ct);
        Assert.Equal(45 + notJson.Count, rig.ReadToEnd(Topics.DeadLetter).Count);
        Assert.Equal(notJson.Count, DeadLetterFeed.Replayed(rig, Topics.UsersCreated).Count);
        var listed = await api.ListAsync("?code=not_json&limit=500");
        Assert.Equal(notJson.Count, listed.Items.Count(i => i.ReplayCount == 1));
        Assert.Equal(notJson.Count, listed.Items.Count(i => i.ReplayCount == 0));
        Assert.Equal(45 + notJson.Count, (await api.SummaryAsync()).Total);
    }

    [Fact]
    public async Task Bad_requests_get_a_4xx_problem_naming_the_field_and_the_replay_requires_the_api_key()
    {
        await using var rig = await PipelineRig.CreateAsync();
        var processor = await rig.StartProcessorAsync(DeadLetterFeed.ProcessSettings(rig, apiKey: Key), cancellationToken: Ct);
        var api = new DeadLetterApi(processor.CreateClient(), Key);
        var http = api.Http;

        var gets = new (string Query, string Field)[]
        {
            ("?limit=abc", "limit"), ("?limit=0", "limit"), ("?limit=501", "limit"), ("?limit=1.5", "limit"),
            ("?code=" + new string('c', 201), "code"), ("?stage=" + new string('s', 201), "stage"),
        };
        foreach (var (query, field) in gets)
        {
            using var response = await http.GetAsync(new Uri("/dead-letters" + query, UriKind.Relative), Ct);
            await AssertProblemAsync(response, HttpStatusCode.BadRequest, $"\"{field}\"", "GET " + query);
        }

        var posts = new (HttpContent Content, HttpStatusCode Status, string Mentions)[]
        {
            (Json("""{"max":0}"""), HttpStatusCode.BadRequest, "\"max\""),
            (Json("""{"max":"ten"}"""), HttpStatusCode.BadRequest, "\"max\""),
            (Json("""{"max":1.5}"""), HttpStatusCode.BadRequest, "\"max\""),
            (Json("""{"from":"yesterday"}"""), HttpStatusCode.BadRequest, "\"from\""),
            (Json("""{"from":"2026-02-01T00:00:00Z","to":"2026-01-01T00:00:00Z"}"""), HttpStatusCode.BadRequest, "\"to\""),
            (Json("""{"code":""" + "\"" + new string('c', 201) + "\"}"), HttpStatusCode.BadRequest, "\"code\""),
            (Json("""{"colour":"red"}"""), HttpStatusCode.BadRequest, "colour"),
            (Json("""[{"code":"not_json"}]"""), HttpStatusCode.BadRequest, "\"body\""),
            (Json("""{"code":"""), HttpStatusCode.BadRequest, "\"body\""),
            (new StringContent("""{"code":"not_json"}""", Encoding.UTF8, "text/plain"), HttpStatusCode.UnsupportedMediaType, "application/json"),
            (Json("{\"code\":\"x\"" + new string(' ', 17 * 1024) + "}"), HttpStatusCode.RequestEntityTooLarge, "16384 bytes"),
        };
        foreach (var (content, status, mentions) in posts)
        {
            var body = await content.ReadAsStringAsync(Ct);
            using var request = new HttpRequestMessage(HttpMethod.Post, "/dead-letters/replay") { Content = content };
            request.Headers.Add(ApiKeyOptions.HeaderName, Key);
            using var response = await http.SendAsync(request, Ct);
            await AssertProblemAsync(response, status, mentions, "POST " + body[..Math.Min(60, body.Length)]);
        }

        using (var response = await api.PostReplayAsync("""{"code":"not_json"}""", key: ""))
        {
            await AssertProblemAsync(response, HttpStatusCode.Unauthorized, ApiKeyOptions.HeaderName, "no key");
        }

        using (var response = await api.PostReplayAsync("""{"code":"not_json"}""", key: Key + "x"))
        {
            await AssertProblemAsync(response, HttpStatusCode.Forbidden, ApiKeyOptions.HeaderName, "wrong key");
        }

        // The reads need no key; with the key an empty body replays everything (here: nothing).
        using (var anonymous = processor.CreateClient())
        {
            Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync(new Uri("/dead-letters/summary", UriKind.Relative), Ct)).StatusCode);
        }

        Assert.Equal(new ReplayResultDto(0, 0, 0, 0), await api.ReplayAsync(null));
        Assert.Equal(new ReplayResultDto(0, 0, 0, 0), await api.ReplayAsync("{}"));
        Assert.Empty(rig.ReadToEnd(Topics.DeadLetterReplays));
    }

    [Fact]
    public async Task A_replay_asked_while_one_runs_is_refused_with_409_and_the_running_one_completes()
    {
        await using var rig = await PipelineRig.CreateAsync();
        var settings = DeadLetterFeed.ProcessSettings(rig);
        settings["Process:DeadLetters:ReplayBatchSize"] = "1";
        using var metrics = new StageMetrics();
        var processor = await rig.StartProcessorAsync(settings, cancellationToken: Ct);
        await DeadLetterFeed.ProduceBadInputsAsync(rig);
        Assert.Equal(45, rig.Read(Topics.DeadLetter, 45).Count);
        var api = new DeadLetterApi(processor.CreateClient());
        var missing = BadInputs.All.Count(c => c.Code == "missing_field");
        var replayed = $"{StageTelemetry.Process.ToLowerInvariant()}.{DeadLetterReplayer.ReplayedMetricSuffix}";

        // Slow brokers: one dead letter per transaction takes a few round trips of 150 ms.
        rig.Broker.SetLatency(150);
        Task<ReplayResultDto> running;
        try
        {
            running = api.ReplayAsync("""{"code":"missing_field"}""");
            Assert.True(
                await Eventually.TrueAsync(() => metrics.Sum(processor, replayed) > 0, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(20), cancellationToken: Ct),
                "the first replay never committed");
            Assert.False(running.IsCompleted, "the first replay ended before the second was asked for");
            using var refused = await api.PostReplayAsync("""{"code":"missing_field"}""");
            await AssertProblemAsync(refused, HttpStatusCode.Conflict, "replay", "second replay");
        }
        finally
        {
            rig.Broker.SetLatency(0);
        }

        Assert.Equal(new ReplayResultDto(missing, missing, 0, 0), await running);

        // Asked again: the dead letters replayed are skipped; only their new dead letters (still invalid: replay count 1) are sent.
        var rejectedAgain = rig.Read(Topics.DeadLetter, 45 + missing).Count(r => r.Message.Headers.GetString(ReplayHeaders.ReplayCount) == "1");
        Assert.Equal(missing, rejectedAgain);
        Assert.Equal(new ReplayResultDto(2 * missing, missing, missing, 0), await api.ReplayAsync("""{"code":"missing_field"}"""));
    }

    private static StringContent Json(string text) => new(text, Encoding.UTF8, "application/json");
}
