using UserStream.Process;

namespace UserStream.Tests.Process;

/// <summary>The topics one test's processor works on (unique names, so tests can share a broker).</summary>
internal sealed record StageTopics(string Input, string Output, string DeadLetter)
{
    public static StageTopics Create(MockKafkaCluster broker, int partitions = 3)
    {
        var suffix = Guid.NewGuid().ToString("N")[..12];
        var topics = new StageTopics($"users_created-{suffix}", $"users_enriched-{suffix}", $"users_dlq-{suffix}");
        broker.CreateTopic(topics.Input, partitions);
        broker.CreateTopic(topics.Output, partitions);
        broker.CreateTopic(topics.DeadLetter, partitions);
        return topics;
    }
}

/// <summary>Hosting the process stage as its service does, and checking what it produced.</summary>
internal static class ProcessStageHarness
{
    public static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(45);

    /// <summary>
    /// The stage's configuration for a test: small batches, short operation timeouts, and a short group
    /// session so that the mock broker's rebalances (which wait for the session timeout) stay quick.
    /// </summary>
    public static Dictionary<string, string?> Settings(
        string bootstrapServers, StageTopics topics, string instanceId, string group, int batchMaxCount = 50, int batchMaxWaitMs = 100) =>
        PipelineRig.With(TestKafka.StageSettings(bootstrapServers, sessionTimeoutMs: 4000), new Dictionary<string, string?>
    {
        ["Process:InstanceId"] = instanceId,
        ["Process:ConsumerGroup"] = group,
        ["Process:InputTopic"] = topics.Input,
        ["Process:OutputTopic"] = topics.Output,
        ["Process:DeadLetterTopic"] = topics.DeadLetter,
        ["Process:Batch:MaxCount"] = batchMaxCount.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Process:Batch:MaxWait"] = TimeSpan.FromMilliseconds(batchMaxWaitMs).ToString("c", System.Globalization.CultureInfo.InvariantCulture),
        ["Process:OperationTimeout"] = "00:00:15",
        ["Process:TransactionTimeout"] = "00:01:00",
    });

    public static Task<StageHost> StartAsync(IReadOnlyDictionary<string, string?> settings, CancellationToken cancellationToken = default) =>
        StageHost.StartProcessorAsync(settings, cancellationToken: cancellationToken);

    public static Task ProduceUsersAsync(string bootstrapServers, string topic, IEnumerable<Guid> ids, CancellationToken cancellationToken) =>
        KafkaTopicReader.ProduceAsync(bootstrapServers, topic, ids.Select(id => RandomUserJson.Record(id)), cancellationToken);

    /// <summary>Produces <paramref name="ids"/> in slices with a pause between them: a stream, not a burst.</summary>
    public static async Task StreamUsersAsync(
        string bootstrapServers, string topic, IReadOnlyList<Guid> ids, int slice, TimeSpan pause, CancellationToken cancellationToken)
    {
        for (var start = 0; start < ids.Count; start += slice)
        {
            await ProduceUsersAsync(bootstrapServers, topic, ids.Skip(start).Take(slice), cancellationToken);
            await Task.Delay(pause, cancellationToken);
        }
    }

    /// <summary>Every record of <paramref name="topic"/> up to its end (for read-committed: up to the last stable offset).</summary>
    public static List<ConsumeResult<string, byte[]>> ReadToEnd(string bootstrapServers, string topic, IsolationLevel isolation) =>
        KafkaTopicReader.ReadToEnd(bootstrapServers, topic, isolation);

    /// <summary>
    /// The guarantee: <paramref name="outputs"/> hold exactly one users_enriched record per id of
    /// <paramref name="expected"/> (none missing, none twice, nothing else), each keyed and valued by its id.
    /// </summary>
    public static void AssertExactlyOnce(IReadOnlyCollection<Guid> expected, IReadOnlyList<ConsumeResult<string, byte[]>> outputs)
    {
        var keys = outputs.Select(o => Guid.Parse(o.Message.Key)).ToList();
        var duplicated = keys.GroupBy(k => k).Where(g => g.Count() > 1).Select(g => $"{g.Key} x{g.Count()}").ToList();
        var missing = expected.Except(keys).ToList();
        var unexpected = keys.Except(expected).ToList();
        Assert.True(
            duplicated.Count == 0 && missing.Count == 0 && unexpected.Count == 0,
            $"expected {expected.Count} outputs exactly once, read {outputs.Count}: {duplicated.Count} duplicated " +
            $"({string.Join(", ", duplicated.Take(5))}), {missing.Count} missing ({string.Join(", ", missing.Take(5))}), " +
            $"{unexpected.Count} unexpected");
        foreach (var output in outputs)
        {
            Assert.Equal(Guid.Parse(output.Message.Key), EnrichedUserJson.Deserialize(output.Message.Value).Id);
        }
    }

    public static string? Header(ConsumeResult<string, byte[]> record, string key) =>
        record.Message.Headers.TryGetLastBytes(key, out var bytes) && bytes is not null ? Encoding.UTF8.GetString(bytes) : null;
}
