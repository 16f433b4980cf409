using UserStream.Tests.Ingest.Support;
using UserStream.Tests.Process;

namespace UserStream.Tests.Pipeline;

/// <summary>
/// Faults while users stream through the whole pipeline: every user of the runs ends as exactly one row
/// (none lost, none doubled) and as exactly one users_enriched record.
/// </summary>
public sealed class PipelineFaultTests
{
    private const int RunSize = 1_000;

    [Fact]
    public async Task A_broker_outage_during_a_run_loses_and_doubles_nothing()
    {
        await using var pipeline = await PipelineRig.CreateAsync();
        await pipeline.StartAllAsync(cancellationToken: Ct);

        var first = await pipeline.RunAsync(RunSize, cancellationToken: Ct);
        await Eventually.Async(pipeline.RowCountAsync, n => n > 0, PipelineRig.StreamTimeout, cancellationToken: Ct);

        // Every broker goes away while the first run's users are on their way and the second run produces.
        pipeline.Broker.SetBrokerDown(-1);
        RunView second;
        try
        {
            second = await pipeline.StartRunAsync(RunSize, cancellationToken: Ct);
            await Task.Delay(TimeSpan.FromSeconds(4), Ct);
        }
        finally
        {
            pipeline.Broker.SetBrokerUp(-1);
        }

        second = await pipeline.WaitForRunAsync(second.Id, cancellationToken: Ct);
        await AssertEveryUserOnceAsync(pipeline, [first, second]);
    }

    [Fact]
    public async Task A_database_outage_in_which_the_sink_dies_loses_and_doubles_nothing()
    {
        await using var pipeline = await PipelineRig.CreateAsync();
        await pipeline.StartIngestAsync(cancellationToken: Ct);
        await pipeline.StartProcessorAsync(cancellationToken: Ct);
        var sink = pipeline.StartSinkProcess();

        var first = await pipeline.RunAsync(RunSize, cancellationToken: Ct);
        Assert.True(await pipeline.WaitForRowsAsync(RunSize, cancellationToken: Ct) == RunSize, $"the sink did not store the first run; its output:\n{sink.RecentOutput()}");

        // The database refuses connections while the second run's users reach the sink; the sink, holding a
        // batch it could not write, is killed; the database comes back; a new sink takes over.
        var second = await pipeline.StartRunAsync(RunSize, cancellationToken: Ct);
        await pipeline.Database.RefuseConnectionsAsync();
        try
        {
            var failedWrite = await Eventually.Async(
                () => Task.FromResult(sink.RecentOutput().Contains("Store unavailable", StringComparison.Ordinal)), seen => seen, cancellationToken: Ct);
            Assert.True(failedWrite, $"the sink never tried to write during the outage; its output:\n{sink.RecentOutput()}");
            sink.Kill();
            await Task.Delay(TimeSpan.FromSeconds(1), Ct);
        }
        finally
        {
            await pipeline.Database.AcceptConnectionsAsync();
        }

        second = await pipeline.WaitForRunAsync(second.Id, cancellationToken: Ct);
        var restarted = pipeline.StartSinkProcess();
        await AssertEveryUserOnceAsync(pipeline, [first, second], restarted);
    }

    [Fact]
    public async Task A_processor_killed_mid_transaction_and_again_mid_stream_and_started_again_each_time_loses_and_doubles_nothing()
    {
        await using var pipeline = await PipelineRig.CreateAsync();
        await pipeline.StartIngestAsync(cancellationToken: Ct);
        var processor = pipeline.StartProcessorProcess();
        await pipeline.StartSinkAsync(cancellationToken: Ct);

        var first = await pipeline.RunAsync(RunSize, cancellationToken: Ct);
        Assert.True(await pipeline.WaitForRowsAsync(RunSize, cancellationToken: Ct) == RunSize, $"the first run was not stored; the processor's output:\n{processor.RecentOutput()}");

        // 1. The processor's transaction commits hang (the coordinator keeps answering "loading"): the
        // transaction it opens for the second run's users stays open, outputs written, until it is killed.
        RunView second;
        pipeline.Broker.PushRequestErrors(KafkaApi.EndTxn, [.. Enumerable.Repeat(ErrorCode.GroupLoadInProgress, 500)]);
        try
        {
            second = await pipeline.StartRunAsync(RunSize, cancellationToken: Ct);
            var open = await Eventually.Async(() => Task.FromResult(OpenTransactionOutputs(pipeline)), n => n > 0, cancellationToken: Ct);
            Assert.True(open > 0, $"the processor never held a transaction open; its output:\n{processor.RecentOutput()}");
            processor.Kill();
        }
        finally
        {
            pipeline.Broker.ClearRequestErrors(KafkaApi.EndTxn);
        }

        second = await pipeline.WaitForRunAsync(second.Id, cancellationToken: Ct);
        processor = pipeline.StartProcessorProcess();
        Assert.True(await pipeline.WaitForRowsAsync(2 * RunSize, cancellationToken: Ct) == 2 * RunSize, $"the second run was not stored; the processor's output:\n{processor.RecentOutput()}");

        // 2. Plain consumer offset commits hang (a processor committing its offsets outside its transactions
        // would stall there, its outputs committed and its offsets not); killed once some of the third run's
        // users came out of it.
        RunView third;
        var before = CommittedOutputs(pipeline);
        pipeline.Broker.PushRequestErrors(KafkaApi.OffsetCommit, [.. Enumerable.Repeat(ErrorCode.GroupLoadInProgress, 500)]);
        try
        {
            third = await pipeline.StartRunAsync(RunSize, cancellationToken: Ct);
            var outputs = await Eventually.Async(() => Task.FromResult(CommittedOutputs(pipeline)), n => n > before, cancellationToken: Ct);
            Assert.True(outputs > before, $"the processor committed nothing of the third run; its output:\n{processor.RecentOutput()}");
            processor.Kill();
        }
        finally
        {
            pipeline.Broker.ClearRequestErrors(KafkaApi.OffsetCommit);
        }

        third = await pipeline.WaitForRunAsync(third.Id, cancellationToken: Ct);
        var restarted = pipeline.StartProcessorProcess();
        await AssertEveryUserOnceAsync(pipeline, [first, second, third], restarted);
    }

    /// <summary>Records in users_enriched that a read-uncommitted reader sees and a read-committed one does not.</summary>
    private static int OpenTransactionOutputs(PipelineRig pipeline) =>
        pipeline.ReadToEnd(Topics.UsersEnriched, IsolationLevel.ReadUncommitted).Count - CommittedOutputs(pipeline);

    /// <summary>Records of committed transactions in users_enriched.</summary>
    private static int CommittedOutputs(PipelineRig pipeline) =>
        pipeline.ReadToEnd(Topics.UsersEnriched).Count;

    /// <summary>Each run succeeded, and each of its users is exactly one users_enriched record and exactly one row.</summary>
    private static async Task AssertEveryUserOnceAsync(PipelineRig pipeline, RunView[] runs, StageProcess? child = null)
    {
        var total = runs.Length * RunSize;
        var rows = await pipeline.WaitForRowsAsync(total);
        var context = child is null ? "" : $"; the restarted stage's output:\n{child.RecentOutput()}";

        Assert.All(runs, run => PipelineAssert.Succeeded(run, RunSize));
        PipelineAssert.NoDeadLetters(pipeline.ReadToEnd(Topics.DeadLetter));
        var produced = pipeline.ProducedIds(total, runs);
        Assert.Equal(total, produced.Distinct().Count());
        ProcessStageHarness.AssertExactlyOnce(produced, pipeline.Read(Topics.UsersEnriched, total));
        PipelineAssert.ExactlyTheseRows(produced, await pipeline.StoredUsersAsync(), context);
        Assert.Equal(total, rows);
    }
}
