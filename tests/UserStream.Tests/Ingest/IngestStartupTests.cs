using Microsoft.Extensions.Options;
using UserStream.Ingest;
using UserStream.Ingest.Ledger;
using UserStream.Tests.Ingest.Support;

namespace UserStream.Tests.Ingest;

/// <summary>The stage refuses bad configuration at startup and survives a database that is not there yet.</summary>
public sealed class IngestStartupTests(KafkaBroker broker, PostgresDatabase database) : IClassFixture<KafkaBroker>, IClassFixture<PostgresDatabase>
{
    public static TheoryData<string, string, string> BadSettings => new()
    {
        { "Ingest:PageSize", "0", "PageSize" },
        { "Ingest:PageSize", "5001", "PageSize" },
        { "Ingest:Schedule:Interval", "00:00:00", "Interval" },
        { "Ingest:Schedule:Size", "1001", "Ingest:Schedule:Size (1001) is above Ingest:MaxRunSize (1000)" },
        { "Ingest:RandomUser:BaseAddress", "not a uri", "Ingest:RandomUser:BaseAddress 'not a uri' is not an absolute URI" },
        { "Ingest:RandomUser:MaxRetries", "-1", "MaxRetries" },
        { "Ingest:RandomUser:Nationalities", "us;gb", "Ingest:RandomUser:Nationalities must be comma-separated two-letter codes" },
        { "Ingest:Generator:Nationalities", "US,XX", "unknown code 'XX'" },
        { "Ingest:Topic", "", "Topic" },
    };

    public static TheoryData<string, string, string> FieldSettingsThatDropARequiredField => new()
    {
        { "Ingest:RandomUser:Exclude", "login", "Ingest:RandomUser:Exclude drops 'login', which the processor requires (login.uuid is the record key)" },
        { "Ingest:RandomUser:Exclude", "picture,email", "Ingest:RandomUser:Exclude drops 'email', which the processor requires" },
        { "Ingest:RandomUser:Include", "login,name,email,dob", "Ingest:RandomUser:Include leaves out 'registered', which the processor requires" },
    };

    /// <summary>Bad values, and an include or exclude list that drops a field the processor requires.</summary>
    [Theory]
    [MemberData(nameof(BadSettings))]
    [MemberData(nameof(FieldSettingsThatDropARequiredField))]
    public async Task Invalid_settings_stop_the_stage_at_startup_naming_the_setting(string key, string value, string message)
    {
        var settings = IngestTestHost.Settings(broker, database.ConnectionString, "unused");
        settings["Ingest:Source"] = "RandomUser";
        settings[key] = value;

        var failure = await Assert.ThrowsAsync<OptionsValidationException>(() => StageHost.StartIngestAsync(settings, cancellationToken: Ct));

        Assert.Contains(message, failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Excluding_a_field_the_processor_does_not_require_is_accepted_and_sent_to_the_api()
    {
        await using var api = await FakeRandomUserApi.StartAsync();
        var topic = broker.NewTopic("users-created");
        var settings = IngestTestHost.Settings(broker, await database.NewSchemaAsync(), topic, api);
        settings["Ingest:RandomUser:Exclude"] = "picture";
        settings["Ingest:RandomUser:Include"] = "login,name,email,dob,registered,picture,nat";
        await using var stage = await StageHost.StartIngestAsync(settings, cancellationToken: Ct);

        var run = await stage.Api.WaitForRunAsync((await stage.Api.TriggerAsync(3, cancellationToken: Ct)).Id, cancellationToken: Ct);

        Assert.Equal("succeeded", run.Status);
        Assert.All(api.Requests, r => Assert.Contains("exc=picture", r.Query, StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_unknown_source_stops_the_stage_at_startup()
    {
        var settings = IngestTestHost.Settings(broker, database.ConnectionString, "unused");
        settings["Ingest:Source"] = "Spreadsheet";

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => StageHost.StartIngestAsync(settings, cancellationToken: Ct));

        Assert.Contains("Spreadsheet", failure.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Concurrent_startups_create_the_ledger_tables_once_without_error()
    {
        var ledger = await database.NewSchemaAsync();
        await using var source = NpgsqlDataSource.Create(ledger);
        var schema = new LedgerSchema(source);

        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => schema.EnsureAsync(TestContext.Current.CancellationToken))));
        await schema.EnsureAsync(TestContext.Current.CancellationToken);

        await using var count = source.CreateCommand(
            "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename IN ('ingest_runs', 'ingest_schedule')");
        Assert.Equal(2L, await count.ExecuteScalarAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task A_stage_started_while_its_database_refuses_connections_answers_503_then_becomes_ready()
    {
        await using var own = await PostgresTestDatabase.CreateAsync();
        await own.RefuseConnectionsAsync();
        var topic = broker.NewTopic("users-created");
        await using var host = await StageHost.StartAsync(
            IngestTestHost.Settings(broker, own.ConnectionString, topic), b => b.AddIngestStage(), app => app.MapIngestEndpoints(), cancellationToken: Ct);
        var api = new IngestApiClient(host.CreateClient());

        using var refused = await api.PostRunsAsync(new { size = 3 }, cancellationToken: Ct);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);

        await own.AcceptConnectionsAsync();
        await api.WaitUntilReadyAsync(cancellationToken: Ct);
        var run = await api.WaitForRunAsync((await api.TriggerAsync(3, cancellationToken: Ct)).Id, cancellationToken: Ct);
        Assert.Equal("succeeded", run.Status);
    }

    [Fact]
    public async Task A_producer_that_cannot_be_created_fails_the_run_with_the_reason_instead_of_crashing_the_stage()
    {
        var settings = IngestTestHost.Settings(broker, await database.NewSchemaAsync(), "unused");
        settings["Kafka:Settings:no.such.property"] = "1";
        await using var stage = await StageHost.StartIngestAsync(settings, cancellationToken: Ct);

        var run = await stage.Api.WaitForRunAsync((await stage.Api.TriggerAsync(3, cancellationToken: Ct)).Id, cancellationToken: Ct);

        Assert.Equal(("failed", 0, 0), (run.Status, run.Fetched, run.Produced));
        Assert.Contains("the producer could not be created", run.Error, StringComparison.Ordinal);
        Assert.Contains("no.such.property", run.Error, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await stage.Api.Http.GetAsync("/schedule", TestContext.Current.CancellationToken)).StatusCode);
    }
}
