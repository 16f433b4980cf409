namespace UserStream.Tests.Sink;

/// <summary>
/// A class of sink tests: the mock cluster and the PostgreSQL database its tests share (class fixtures), and a rig
/// (<see cref="SinkRig"/>: own topics, group and table rows) for each test.
/// </summary>
public abstract class SinkTests(KafkaBroker broker, PostgresDatabase database) : IClassFixture<KafkaBroker>, IClassFixture<PostgresDatabase>
{
    protected KafkaBroker Broker => broker;

    protected PostgresDatabase Database => database;

    /// <summary>A new rig whose input topic has <paramref name="partitions"/> partitions, its topics created.</summary>
    private protected SinkRig NewRig(int partitions = 3) => new SinkRig(broker, database, partitions).CreateTopics();
}
