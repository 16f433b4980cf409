using UserStream.Tests.Process;

namespace UserStream.Tests.Pipeline;

/// <summary>
/// The three stages together, each hosted as its service hosts it, fed by an ingest run of the offline
/// generator: what goes in at POST /runs comes out in created_users, and bad records come out in users_dlq.
/// </summary>
public sealed class PipelineRunTests
{
    private const string CaseHeader = "test-case";

    [Fact]
    public async Task A_run_of_N_users_ends_as_N_rows_equal_to_the_enriched_records_with_the_ledger_agreeing_and_no_dead_letters()
    {
        const int size = 2_000;
        await using var pipeline = await PipelineRig.CreateAsync();
        await pipeline.StartAllAsync(cancellationToken: Ct);

        var run = await pipeline.StartRunAsync(size, cancellationToken: Ct);
        var done = await pipeline.WaitForRunAsync(run.Id, cancellationToken: Ct);
        var rows = await pipeline.WaitForRowsAsync(size, cancellationToken: Ct);

        PipelineAssert.Succeeded(done, size);
        PipelineAssert.NoDeadLetters(pipeline.ReadToEnd(Topics.DeadLetter));
        var produced = pipeline.ProducedIds(size, done);
        Assert.Equal(size, produced.Distinct().Count());
        var enriched = pipeline.Read(Topics.UsersEnriched, size);
        ProcessStageHarness.AssertExactlyOnce(produced, enriched);
        Assert.Equal(size, rows);
        var stored = await pipeline.StoredUsersAsync(cancellationToken: Ct);
        PipelineAssert.ExactlyTheseRows(produced, stored);
        PipelineAssert.StoredAsEnriched(enriched, stored);
        Assert.All(stored, u => Assert.Equal(done.Id.ToString(), u.RunId));
    }

    [Fact]
    public async Task Bad_records_arriving_during_a_run_end_in_the_dead_letter_topic_with_their_codes_and_every_good_user_is_stored()
    {
        const int size = 1_500;
        await using var pipeline = await PipelineRig.CreateAsync();
        await pipeline.StartIngestAsync(cancellationToken: Ct);
        var processSettings = pipeline.ProcessSettings();
        processSettings["Process:Validation:MaxRecordBytes"] = BadInputs.MaxRecordBytes.ToString(CultureInfo.InvariantCulture);
        processSettings["Process:Validation:MaxFieldLength"] = BadInputs.MaxFieldLength.ToString(CultureInfo.InvariantCulture);
        processSettings["Process:Validation:MaxDepth"] = BadInputs.MaxDepth.ToString(CultureInfo.InvariantCulture);
        await pipeline.StartProcessorAsync(processSettings, cancellationToken: Ct);
        await pipeline.StartSinkAsync(cancellationToken: Ct);

        // The bad records are produced to users_created while the run produces its users.
        var run = await pipeline.StartRunAsync(size, cancellationToken: Ct);
        await KafkaTopicReader.ProduceAsync(
            pipeline.BootstrapServers,
            Topics.UsersCreated,
            BadInputs.All.Select(c => new Message<string, byte[]> { Key = c.Key!, Value = c.Value!, Headers = new Headers().SetString(CaseHeader, c.Name) }),
            TestContext.Current.CancellationToken);
        var done = await pipeline.WaitForRunAsync(run.Id, cancellationToken: Ct);
        await pipeline.WaitForRowsAsync(size, cancellationToken: Ct);

        PipelineAssert.Succeeded(done, size);
        var deadLetters = pipeline.Read(Topics.DeadLetter, BadInputs.All.Count);
        Assert.Equal(
            BadInputs.All.Select(c => $"{c.Name}: {c.Code}").Order(),
            deadLetters.Select(d => $"{d.Message.Headers.GetString(CaseHeader)}: {d.Message.Headers.GetString(DeadLetterHeaders.ErrorCode)}").Order());
        Assert.All(deadLetters, d => Assert.Equal("process", d.Message.Headers.GetString(DeadLetterHeaders.Stage)));
        var produced = pipeline.ProducedIds(size + BadInputs.All.Count, done);
        Assert.Equal(size, produced.Count);
        PipelineAssert.ExactlyTheseRows(produced, await pipeline.StoredUsersAsync(cancellationToken: Ct));
    }
}
