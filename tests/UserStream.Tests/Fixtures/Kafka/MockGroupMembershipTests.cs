namespace UserStream.Tests.Fixtures;

/// <summary>
/// The mock broker's group coordinator behaves like Kafka's when members join, restart and leave, with the
/// services' session timeout (45 s): a rebalance ends once every member has joined again, and a static member
/// (group.instance.id) that comes back after a crash takes its own place at once. Needs librdkafka with
/// eng/librdkafka-mock-transactions.patch (changes 5 and 6); the unpatched mock makes each of these wait about
/// 45 s, longer than <see cref="Prompt"/>. The last test holds the toolkit's graceful leave for static members.
/// </summary>
public sealed class MockGroupMembershipTests(KafkaBroker broker) : IClassFixture<KafkaBroker>
{
    private const int SessionTimeoutMs = 45_000;

    /// <summary>Well under the session timeout, well over a heartbeat (3 s) and the initial rebalance delay (3 s).</summary>
    private static readonly TimeSpan Prompt = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task A_member_joining_a_stable_group_gets_partitions_once_every_member_has_joined_again()
    {
        var (topic, group) = NewTopicAndGroup();
        using var first = Subscribe(topic, group, instanceId: null);
        Assert.True(await AssignedAsync(first, 6), "the first member never got the topic's partitions");

        using var second = Subscribe(topic, group, instanceId: null);
        Assert.True(
            await AssignedAsync(second, 3, first),
            "the second member got no partitions within 20 s: the rebalance waited for its timer (session.timeout.ms - 1 s) " +
            "although both members had joined (librdkafka's unpatched mock cluster does)");
    }

    [Fact]
    public async Task A_static_member_started_again_after_a_crash_takes_its_place_at_once()
    {
        var (topic, group) = NewTopicAndGroup();
        using (var crashed = Subscribe(topic, group, "instance-0"))
        {
            Assert.True(await AssignedAsync(crashed, 6), "the member never got the topic's partitions");

            // A static member does not leave its group on close (KIP-345): to the group it simply went silent,
            // as a crashed process does, its session still open.
        }

        using var restarted = Subscribe(topic, group, "instance-0");
        Assert.True(
            await AssignedAsync(restarted, 6),
            "the restarted static member got no partitions within 20 s: the group waited for its dead incarnation's " +
            "session to time out (librdkafka's unpatched mock cluster does)");
    }

    [Fact]
    public async Task A_static_member_that_leaves_explicitly_hands_its_partitions_over_at_once()
    {
        var (topic, group) = NewTopicAndGroup();
        using var staying = Subscribe(topic, group, "instance-a");
        Assert.True(await AssignedAsync(staying, 6), "the first member never got the topic's partitions");
        using (var leaving = Subscribe(topic, group, "instance-b"))
        {
            Assert.True(await AssignedAsync(leaving, 3, staying), "the second member never got partitions");
            leaving.LeaveGroup(TimeSpan.FromSeconds(5));
            leaving.Close();
        }

        Assert.True(
            await AssignedAsync(staying, 6),
            "the staying member did not get the leaver's partitions within 20 s: the leaver did not leave the group, " +
            "which then waited for its session to time out");
    }

    private (string Topic, string Group) NewTopicAndGroup()
    {
        var topic = broker.NewTopic("membership", partitions: 6);
        return (topic, "group-" + Guid.NewGuid().ToString("N"));
    }

    private IConsumer<string, byte[]> Subscribe(string topic, string group, string? instanceId)
    {
        var config = new ConsumerConfig
        {
            BootstrapServers = broker.BootstrapServers,
            GroupId = group,
            GroupInstanceId = instanceId,
            SessionTimeoutMs = SessionTimeoutMs,
            EnableAutoCommit = false,
            PartitionAssignmentStrategy = PartitionAssignmentStrategy.Range,
        };
        var consumer = new ConsumerBuilder<string, byte[]>(config).Build();
        consumer.Subscribe(topic);
        return consumer;
    }

    /// <summary>Polls <paramref name="consumer"/> (and <paramref name="others"/>, which must keep polling to rejoin) until it holds <paramref name="partitions"/> partitions.</summary>
    private static async Task<bool> AssignedAsync(IConsumer<string, byte[]> consumer, int partitions, params IConsumer<string, byte[]>[] others)
    {
        var until = DateTime.UtcNow + Prompt;
        while (DateTime.UtcNow < until)
        {
            foreach (var member in others.Prepend(consumer))
            {
                member.Consume(TimeSpan.FromMilliseconds(50));
            }

            if (consumer.Assignment.Count == partitions)
            {
                return true;
            }

            await Task.Yield();
        }

        return false;
    }
}
