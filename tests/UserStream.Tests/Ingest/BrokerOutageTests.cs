using UserStream.Tests.Ingest.Support;

namespace UserStream.Tests.Ingest;

/// <summary>A run counts as succeeded only when the broker acknowledged every record.</summary>
public sealed class BrokerOutageTests(KafkaBroker broker, PostgresDatabase database) : IClassFixture<KafkaBroker>, IClassFixture<PostgresDatabase>
{
    [Fact]
    public async Task A_broker_outage_during_a_run_counts_the_unacknowledged_records_and_the_run_ends_partial_then_a_later_run_succeeds()
    {
        var topic = broker.NewTopic("users-created", partitions: 3);
        await using var randomUser = await FakeRandomUserApi.StartAsync();
        // Page 1 is delivered; then the brokers go down before page 2 is answered.
        randomUser.BeforeAnswer = async request =>
        {
            if (request.Page == 2 && request.Results == 10)
            {
                var landed = await Task.Run(() => KafkaTopicReader.ReadAll(broker.BootstrapServers, topic, 10, TimeSpan.FromSeconds(15), TimeSpan.Zero));
                Assert.Equal(10, landed.Count);
                broker.SetBrokerDown();
            }
        };
        var settings = IngestTestHost.Settings(broker, await database.NewSchemaAsync(), topic, randomUser);
        settings["Ingest:PageSize"] = "10";
        settings["Ingest:RandomUser:AttemptTimeout"] = "00:00:30"; // page 2 waits while the test checks page 1 landed
        settings["Kafka:Settings:message.timeout.ms"] = "2000";
        settings["Kafka:Settings:reconnect.backoff.max.ms"] = "200";
        await using var stage = await StageHost.StartIngestAsync(settings, cancellationToken: Ct);

        RunView outage;
        try
        {
            outage = await stage.Api.WaitForRunAsync((await stage.Api.TriggerAsync(20, cancellationToken: Ct)).Id, cancellationToken: Ct);
        }
        finally
        {
            broker.SetBrokerUp();
        }

        Assert.Equal(("partial", 20, 10, 10), (outage.Status, outage.Fetched, outage.Produced, outage.Failed));
        Assert.Contains("10 of 20 records not acknowledged by the broker", outage.Error, StringComparison.Ordinal);

        // The producer reconnects in its own time once the brokers are back; a run started before it has may still
        // see deliveries time out (message.timeout.ms is 2 s here). A later run succeeds, and exactly what every run
        // reports as produced is in the topic.
        var later = new List<RunView>();
        do
        {
            later.Add(await stage.Api.WaitForRunAsync((await stage.Api.TriggerAsync(5, cancellationToken: Ct)).Id, cancellationToken: Ct));
        }
        while (later[^1].Status != "succeeded" && later.Count < 5);

        var after = later[^1];
        Assert.Equal(("succeeded", 5, 0), (after.Status, after.Produced, after.Failed));
        var produced = 10 + later.Sum(r => r.Produced);
        var records = KafkaTopicReader.ReadAll(broker.BootstrapServers, topic, produced, TimeSpan.FromSeconds(15));
        Assert.Equal(produced, records.Count);
    }
}
