using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;
using UserStream.Sink.Store;
using UserStream.Sink.Telemetry;

namespace UserStream.Tests.Sink;

/// <summary>The sink stage hosted as its service hosts it, between the mock broker and a real PostgreSQL: what it stores, answers and reports.</summary>
public sealed class SinkStageTests(KafkaBroker broker, PostgresDatabase database) : SinkTests(broker, database)
{
    [Fact]
    public async Task Every_enriched_record_becomes_exactly_one_row_equal_to_it_and_its_offset_is_committed()
    {
        var rig = NewRig();
        var users = TestUsers.Users(600, seed: 21);
        await using var sink = await rig.StartSinkAsync();

        await rig.ProduceAsync(users);

        Assert.Equal(users.Count, await rig.WaitForRowsAsync([.. users.Select(u => u.Id)], users.Count));
        var store = sink.Services.GetRequiredService<IUserStore>();
        foreach (var user in users)
        {
            Assert.Equal(user, await store.GetAsync(user.Id, Ct));
        }

        Assert.Equal(users.Count, await rig.WaitForCommittedAsync(users.Count));
        Assert.Empty(rig.ReadDeadLetters(1, TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public async Task Records_delivered_again_add_no_row_and_an_older_version_does_not_overwrite_a_newer_one()
    {
        var rig = NewRig();
        var users = TestUsers.Users(200, seed: 22);
        var ids = users.Select(u => u.Id).ToList();
        var updated = users[0] with { Email = "second@example.com", IngestedAt = users[0].IngestedAt.AddSeconds(30) };
        await using (var sink = await rig.StartSinkAsync())
        {
            // Every record twice, then a newer version of one user; once that is stored, the older version again.
            await rig.ProduceAsync(users);
            await rig.ProduceAsync(users);
            await rig.ProduceAsync([updated]);
            Assert.Equal(2L * users.Count + 1, await rig.WaitForCommittedAsync(2L * users.Count + 1));
            await rig.ProduceAsync([users[0]]);
            Assert.Equal(2L * users.Count + 2, await rig.WaitForCommittedAsync(2L * users.Count + 2));
            Assert.Equal(updated, await sink.Services.GetRequiredService<IUserStore>().GetAsync(updated.Id, Ct));
        }

        // As after a crash before the commit: the group's offsets go back to the start and everything is redelivered.
        ResetGroupOffsets(rig);
        await using (var restarted = await rig.StartSinkAsync())
        {
            Assert.Equal(2L * users.Count + 2, await rig.WaitForCommittedAsync(2L * users.Count + 2));
            var store = restarted.Services.GetRequiredService<IUserStore>();
            Assert.Equal(users.Count, await rig.RowsAsync(ids));
            Assert.Equal(updated, await store.GetAsync(updated.Id, Ct));
            Assert.Equal(users[^1], await store.GetAsync(users[^1].Id, Ct));
        }
    }

    [Fact]
    public async Task Records_that_cannot_be_stored_go_alone_to_the_dead_letter_topic_with_the_reason_and_the_others_land()
    {
        var rig = NewRig(partitions: 1);
        var users = TestUsers.Users(60, seed: 23);
        var refused = users[17] with { LastName = "Null\0Byte" };
        var messages = users.Select(TestUsers.Message).ToList();
        messages[17] = TestUsers.Message(refused);
        messages[44] = TestUsers.Message(users[44].Id.ToString(), EnrichedUserJson.Serialize(users[44] with { SchemaVersion = 2 }));
        messages.Insert(30, TestUsers.Message("not-json", Encoding.UTF8.GetBytes("{ this is not json")));
        var landing = users.Where((_, i) => i is not 17 and not 44).ToList();
        await using var sink = await rig.StartSinkAsync(rig.Settings(maxBatch: 25));

        await rig.ProduceAsync(messages);

        var deadLetters = rig.ReadDeadLetters(3);
        Assert.Equal(landing.Count, await rig.WaitForRowsAsync([.. landing.Select(u => u.Id)], landing.Count));
        Assert.Equal(0, await rig.RowsAsync([refused.Id, users[44].Id]));
        Assert.Equal(messages.Count, await rig.WaitForCommittedAsync(messages.Count));

        var byCode = deadLetters.ToDictionary(d => d.Message.Headers.GetString(DeadLetterHeaders.ErrorCode)!);
        Assert.Equal(["deserialization_failed", "store_rejected", "unsupported_schema_version"], byCode.Keys.Order());
        var storeRejected = byCode["store_rejected"];
        Assert.Equal(refused.Id.ToString(), storeRejected.Message.Key);
        Assert.Equal(EnrichedUserJson.Serialize(refused), storeRejected.Message.Value);
        Assert.Contains("22021", storeRejected.Message.Headers.GetString(DeadLetterHeaders.Reason), StringComparison.Ordinal);
        Assert.Equal("17", storeRejected.Message.Headers.GetString(DeadLetterHeaders.SourceOffset));
        Assert.Equal(rig.Topic, storeRejected.Message.Headers.GetString(DeadLetterHeaders.SourceTopic));
        Assert.Contains("schema_version 2", byCode["unsupported_schema_version"].Message.Headers.GetString(DeadLetterHeaders.Reason), StringComparison.Ordinal);
        Assert.All(deadLetters, d => Assert.Equal("sink", d.Message.Headers.GetString(DeadLetterHeaders.Stage)));
    }

    [Fact]
    public async Task The_query_endpoints_answer_in_the_contract_shape_and_refuse_bad_input()
    {
        var rig = NewRig();
        var users = TestUsers.Users(12, seed: 24, ingestedAt: TestUsers.Micro(DateTimeOffset.UtcNow.AddYears(10)));
        await using var sink = await rig.StartSinkAsync();
        await rig.ProduceAsync(users);
        await rig.WaitForRowsAsync([.. users.Select(u => u.Id)], users.Count);
        using var http = sink.CreateClient();

        var one = await http.GetAsync(new Uri($"/users/{users[3].Id}", UriKind.Relative), Ct);
        Assert.Equal(HttpStatusCode.OK, one.StatusCode);
        var body = await one.Content.ReadAsByteArrayAsync(Ct);
        Assert.Equal(users[3], EnrichedUserJson.Deserialize(body));
        Assert.Contains("\"first_name\"", Encoding.UTF8.GetString(body), StringComparison.Ordinal);

        var recent = await http.GetAsync(new Uri("/users?limit=3", UriKind.Relative), Ct);
        Assert.Equal(HttpStatusCode.OK, recent.StatusCode);
        using (var list = JsonDocument.Parse(await recent.Content.ReadAsByteArrayAsync(Ct)))
        {
            var listed = list.RootElement.EnumerateArray().Select(e => EnrichedUserJson.Deserialize(Encoding.UTF8.GetBytes(e.GetRawText()))).ToList();
            Assert.Equal(users.OrderByDescending(u => u.IngestedAt).Take(3), listed);
        }

        using (var defaultList = JsonDocument.Parse(await http.GetByteArrayAsync(new Uri("/users", UriKind.Relative), Ct)))
        {
            Assert.Equal(Math.Min(20, await CountAsync(http)), defaultList.RootElement.GetArrayLength());
        }

        Assert.True(await CountAsync(http) >= users.Count);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync(new Uri($"/users/{Guid.NewGuid()}", UriKind.Relative), Ct)).StatusCode);
        foreach (var bad in new[] { "/users/not-a-uuid", "/users?limit=0", "/users?limit=1001", "/users?limit=abc", "/users?limit=-5" })
        {
            Assert.Equal(HttpStatusCode.BadRequest, (await http.GetAsync(new Uri(bad, UriKind.Relative), Ct)).StatusCode);
        }
    }

    [Fact]
    public async Task Each_record_s_store_write_appears_in_that_record_s_own_trace()
    {
        var rig = NewRig();
        var users = TestUsers.Users(8, seed: 25);
        var traces = users.ToDictionary(u => u.Id, _ => ActivityTraceId.CreateRandom());
        var spans = new ConcurrentBag<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == StageTelemetry.Sink,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Add,
        };
        ActivitySource.AddActivityListener(listener);
        await using var sink = await rig.StartSinkAsync();

        await rig.ProduceAsync(users.Select(u =>
        {
            var message = TestUsers.Message(u);
            message.Headers.SetString(PipelineHeaders.TraceParent, $"00-{traces[u.Id]}-{ActivitySpanId.CreateRandom()}-01");
            return message;
        }));
        await rig.WaitForRowsAsync([.. users.Select(u => u.Id)], users.Count);
        await rig.WaitForCommittedAsync(users.Count);

        var mine = spans.Where(s => traces.ContainsValue(s.TraceId)).ToList();
        foreach (var traceId in traces.Values)
        {
            var process = Assert.Single(mine, s => s.TraceId == traceId && s.DisplayName == $"process {rig.Topic}");
            var write = Assert.Single(mine, s => s.TraceId == traceId && s.DisplayName == "store write");
            Assert.Equal(process.SpanId, write.ParentSpanId);
            Assert.Equal(ActivityKind.Consumer, process.Kind);
        }

        var processIds = mine.Where(s => s.Kind == ActivityKind.Consumer).Select(s => s.SpanId).ToHashSet();
        var batchLinks = spans
            .Where(s => s.DisplayName == "store write" && s.Kind == ActivityKind.Client)
            .SelectMany(s => s.Links)
            .Where(l => processIds.Contains(l.Context.SpanId))
            .ToList();
        Assert.Equal(users.Count, batchLinks.Count);
    }

    [Fact]
    public async Task Stopping_gracefully_writes_and_commits_the_batch_in_hand()
    {
        var rig = NewRig();
        var users = TestUsers.Users(30, seed: 26);
        var ids = users.Select(u => u.Id).ToList();
        // A batch that would stay open for a minute, pauses in the stream included: only the stop can close it.
        var settings = rig.Settings(maxBatch: 10_000, maxWait: "00:01:00");
        settings["Sink:Batch:IdleWait"] = "00:01:00";
        var sink = await rig.StartSinkAsync(settings);
        await rig.ProduceAsync(users);
        await Task.Delay(TimeSpan.FromSeconds(4), Ct);
        Assert.Equal(0, await rig.RowsAsync(ids));

        await sink.StopAsync(Ct);
        await sink.DisposeAsync();

        Assert.Equal(users.Count, await rig.RowsAsync(ids));
        Assert.Equal(users.Count, rig.CommittedTotal());
    }

    [Fact]
    public async Task Invalid_settings_stop_the_stage_at_startup_with_the_reason()
    {
        var rig = new SinkRig(Broker, Database);
        var settings = rig.Settings();
        settings["Sink:Batch:MaxCount"] = "0";
        settings["Sink:Retry:MaxDelay"] = "00:00:00.010";

        var failure = await Assert.ThrowsAsync<OptionsValidationException>(() => rig.StartSinkAsync(settings));

        Assert.Contains(failure.Failures, f => f.Contains("MaxCount", StringComparison.Ordinal));
        Assert.Contains(failure.Failures, f => f.Contains("MaxDelay", StringComparison.Ordinal));
    }

    private static async Task<long> CountAsync(HttpClient http)
    {
        using var count = JsonDocument.Parse(await http.GetByteArrayAsync(new Uri("/users/count", UriKind.Relative), Ct));
        return count.RootElement.GetProperty("count").GetInt64();
    }

    private static void ResetGroupOffsets(SinkRig rig)
    {
        // A member of the group takes every partition and commits offset 0 for each.
        using var consumer = new ConsumerBuilder<string, byte[]>(new ConsumerConfig
        {
            BootstrapServers = rig.Broker.BootstrapServers,
            GroupId = rig.Group,
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
            SessionTimeoutMs = SinkRig.GroupSessionTimeoutMs,
            HeartbeatIntervalMs = 500,
        }).Build();
        var partitions = Testing.KafkaTopicReader.PartitionsOf(rig.Broker.BootstrapServers, rig.Topic);
        consumer.Subscribe(rig.Topic);
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (consumer.Assignment.Count < partitions.Count && DateTime.UtcNow < until)
        {
            consumer.Consume(TimeSpan.FromMilliseconds(100));
        }

        consumer.Commit([.. partitions.Select(p => new TopicPartitionOffset(rig.Topic, p, new Offset(0)))]);
        consumer.Close();
        Assert.Equal(0, rig.CommittedTotal());
    }

    [Fact]
    public async Task The_meter_reports_rows_written_batches_dead_letters_by_reason_and_a_lag_that_drains_to_zero()
    {
        var rig = NewRig();
        var users = TestUsers.Users(150, seed: 61);
        var messages = users.Select(TestUsers.Message).ToList();
        messages.Add(TestUsers.Message("bad-1", Encoding.UTF8.GetBytes("[]")));
        messages.Add(TestUsers.Message("bad-2", Encoding.UTF8.GetBytes("nope")));
        await using var sink = await rig.StartSinkAsync();
        var meter = sink.Services.GetRequiredService<StageTelemetry>().Meter;
        var longs = new ConcurrentQueue<(string Name, long Value, KeyValuePair<string, object?>[] Tags)>();
        var doubles = new ConcurrentQueue<string>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (ReferenceEquals(instrument.Meter, meter))
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((i, v, tags, _) => longs.Enqueue((i.Name, v, tags.ToArray())));
        listener.SetMeasurementEventCallback<int>((i, v, tags, _) => longs.Enqueue((i.Name, v, tags.ToArray())));
        listener.SetMeasurementEventCallback<double>((i, _, _, _) => doubles.Enqueue(i.Name));
        listener.Start();

        await rig.ProduceAsync(messages);
        await rig.WaitForCommittedAsync(messages.Count);

        Assert.Equal(users.Count, longs.Where(m => m.Name == SinkMetrics.RowsWrittenName).Sum(m => m.Value));
        Assert.Equal(messages.Count, longs.Where(m => m.Name == SinkMetrics.BatchSizeName).Sum(m => m.Value));
        Assert.Equal(2, longs.Where(m => m.Name == SinkMetrics.DeadLetteredName
            && m.Tags.Contains(new KeyValuePair<string, object?>("reason", "deserialization_failed"))).Sum(m => m.Value));
        Assert.Contains(SinkMetrics.WriteDurationName, doubles);

        var lag = await Eventually.Async(
            () =>
            {
                var observed = new List<long>();
                using var gauge = new MeterListener
                {
                    InstrumentPublished = (instrument, l) =>
                    {
                        if (ReferenceEquals(instrument.Meter, meter) && instrument.Name == SinkMetrics.ConsumerLagName)
                        {
                            l.EnableMeasurementEvents(instrument);
                        }
                    },
                };
                gauge.SetMeasurementEventCallback<long>((_, v, _, _) => observed.Add(v));
                gauge.Start();
                gauge.RecordObservableInstruments();
                return Task.FromResult(observed);
            },
            observed => observed.Count == 3 && observed.Sum() == 0, cancellationToken: Ct);
        Assert.Equal([0L, 0L, 0L], lag);
    }
}
