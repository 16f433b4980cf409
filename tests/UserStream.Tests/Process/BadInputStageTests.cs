using static UserStream.Tests.Process.ProcessStageHarness;

namespace UserStream.Tests.Process;

/// <summary>
/// One process stage, hosted as the service hosts it, fed every kind of bad record (<see cref="BadInputs"/>)
/// interleaved with good users, then more good users after them. Produced once for the class.
/// </summary>
public sealed class BadInputRun : IAsyncLifetime
{
    public const string CaseHeader = "test-case";
    public const int GoodBefore = 60;
    public const int GoodAfter = 20;

    private MockKafkaCluster? _broker;
    private ActivityListener? _listener;

    internal StageTopics Topics { get; private set; } = null!;
    public List<Guid> GoodIds { get; } = [];
    public Dictionary<Guid, string> TraceParents { get; } = [];
    public Dictionary<string, TopicPartitionOffset> BadPositions { get; } = [];
    public List<ConsumeResult<string, byte[]>> Outputs { get; private set; } = [];
    public List<ConsumeResult<string, byte[]>> DeadLetters { get; private set; } = [];

    public async ValueTask InitializeAsync()
    {
        var ct = TestContext.Current.CancellationToken;
        _broker = await MockKafkaCluster.StartAsync();
        Topics = StageTopics.Create(_broker);

        // Trace the stage, as an OpenTelemetry SDK would, so that its spans exist and are propagated.
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == Streaming.Telemetry.StageTelemetry.Process,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(_listener);

        var settings = Settings(_broker.BootstrapServers, Topics, "bad-inputs", "processor-" + Guid.NewGuid().ToString("N"));
        settings["Process:Validation:MaxRecordBytes"] = BadInputs.MaxRecordBytes.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["Process:Validation:MaxFieldLength"] = BadInputs.MaxFieldLength.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["Process:Validation:MaxDepth"] = BadInputs.MaxDepth.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await using var stage = await StartAsync(settings, ct);

        using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = _broker.BootstrapServers, EnableIdempotence = true }).Build();
        var bad = 0;
        for (var i = 0; i < GoodBefore; i++)
        {
            await ProduceGood(producer, ct);
            if (i % 2 == 0 && bad < BadInputs.All.Count)
            {
                var @case = BadInputs.All[bad++];
                var headers = new Headers().SetString(CaseHeader, @case.Name).SetString(PipelineHeaders.RunId, "run-bad");
                var delivered = await producer.ProduceAsync(Topics.Input, new Message<string, byte[]> { Key = @case.Key!, Value = @case.Value!, Headers = headers }, ct);
                BadPositions[@case.Name] = delivered.TopicPartitionOffset;
            }
        }

        while (bad < BadInputs.All.Count)
        {
            var @case = BadInputs.All[bad++];
            var headers = new Headers().SetString(CaseHeader, @case.Name);
            var delivered = await producer.ProduceAsync(Topics.Input, new Message<string, byte[]> { Key = @case.Key!, Value = @case.Value!, Headers = headers }, ct);
            BadPositions[@case.Name] = delivered.TopicPartitionOffset;
        }

        DeadLetters = KafkaTopicReader.ReadAll(_broker.BootstrapServers, Topics.DeadLetter, BadInputs.All.Count, ReadTimeout);
        KafkaTopicReader.ReadAll(_broker.BootstrapServers, Topics.Output, GoodBefore, ReadTimeout, TimeSpan.Zero);

        // After all of that, the stage still processes new users.
        for (var i = 0; i < GoodAfter; i++)
        {
            await ProduceGood(producer, ct);
        }

        Outputs = KafkaTopicReader.ReadAll(_broker.BootstrapServers, Topics.Output, GoodBefore + GoodAfter, ReadTimeout, TimeSpan.FromSeconds(1));
        DeadLetters = KafkaTopicReader.ReadAll(_broker.BootstrapServers, Topics.DeadLetter, BadInputs.All.Count, ReadTimeout, TimeSpan.FromSeconds(1));
        await stage.StopAsync(ct);
    }

    private async Task ProduceGood(IProducer<string, byte[]> producer, CancellationToken ct)
    {
        var id = Guid.NewGuid();
        var record = RandomUserJson.Record(id, id.GetHashCode() % 3 == 0 ? RandomUserJson.Ukrainian(id) : RandomUserJson.Create(id), runId: "run-good");
        var traceParent = $"00-{ActivityTraceId.CreateRandom()}-{ActivitySpanId.CreateRandom()}-01";
        record.Headers.SetString(PipelineHeaders.TraceParent, traceParent);
        await producer.ProduceAsync(Topics.Input, record, ct);
        GoodIds.Add(id);
        TraceParents[id] = traceParent;
    }

    public async ValueTask DisposeAsync()
    {
        _listener?.Dispose();
        if (_broker is not null)
        {
            await _broker.DisposeAsync();
        }
    }
}

public sealed class BadInputStageTests(BadInputRun run) : IClassFixture<BadInputRun>
{
    public static TheoryData<string> BadInputNames() => BadInputs.Names();

    [Theory]
    [MemberData(nameof(BadInputNames))]
    public void A_bad_record_lands_in_the_dead_letter_topic_untouched_with_its_code_and_origin(string name)
    {
        var bad = BadInputs.Get(name);

        var letters = run.DeadLetters.Where(d => ProcessStageHarness.Header(d, BadInputRun.CaseHeader) == name).ToList();

        var letter = Assert.Single(letters);
        Assert.Equal(bad.Code, ProcessStageHarness.Header(letter, DeadLetterHeaders.ErrorCode));
        Assert.False(string.IsNullOrWhiteSpace(ProcessStageHarness.Header(letter, DeadLetterHeaders.Reason)));
        Assert.Equal("process", ProcessStageHarness.Header(letter, DeadLetterHeaders.Stage));
        Assert.Equal(bad.Key, letter.Message.Key);
        Assert.Equal(bad.Value, letter.Message.Value);
        var origin = run.BadPositions[name];
        Assert.Equal(origin.Topic, ProcessStageHarness.Header(letter, DeadLetterHeaders.SourceTopic));
        Assert.Equal($"{origin.Partition.Value}", ProcessStageHarness.Header(letter, DeadLetterHeaders.SourcePartition));
        Assert.Equal($"{origin.Offset.Value}", ProcessStageHarness.Header(letter, DeadLetterHeaders.SourceOffset));
        Assert.NotNull(letter.Message.Headers.GetTimestamp(DeadLetterHeaders.FailedAt));
    }

    [Fact]
    public void Every_good_user_around_and_after_the_bad_records_is_enriched_exactly_once()
    {
        Assert.Equal(BadInputRun.GoodBefore + BadInputRun.GoodAfter, run.GoodIds.Count);
        ProcessStageHarness.AssertExactlyOnce(run.GoodIds, run.Outputs);
    }

    [Fact]
    public void The_dead_letter_topic_holds_each_bad_record_once_and_nothing_else()
    {
        var cases = run.DeadLetters.Select(d => ProcessStageHarness.Header(d, BadInputRun.CaseHeader)).ToList();

        Assert.True(BadInputs.All.Count >= 20);
        Assert.Equal(BadInputs.All.Select(c => c.Name).Order(), cases.Order());
    }

    [Fact]
    public void An_enriched_record_is_keyed_by_id_versioned_and_continues_the_trace_of_its_input()
    {
        foreach (var output in run.Outputs)
        {
            var user = EnrichedUserJson.Deserialize(output.Message.Value);
            Assert.Equal(user.Id.ToString("D"), output.Message.Key);
            Assert.Equal("1", ProcessStageHarness.Header(output, PipelineHeaders.SchemaVersion));
            Assert.Equal("run-good", user.RunId);
            Assert.Equal("run-good", ProcessStageHarness.Header(output, PipelineHeaders.RunId));
            Assert.Equal(output.Message.Headers.GetTimestamp(PipelineHeaders.IngestedAt), user.IngestedAt);
            Assert.True(user.ProcessedAt >= user.IngestedAt);

            var input = ActivityContext.Parse(run.TraceParents[user.Id], null);
            var produced = ActivityContext.Parse(ProcessStageHarness.Header(output, PipelineHeaders.TraceParent)!, null);
            Assert.Equal(input.TraceId, produced.TraceId);
            Assert.NotEqual(input.SpanId, produced.SpanId);
        }
    }
}
