using System.Globalization;
using System.Runtime.InteropServices;
using UserStream.Contracts;
using UserStream.Testing;

namespace UserStream.StageRunner;

/// <summary>
/// librdkafka's mock cluster (3 brokers on 127.0.0.1) with <c>users_created</c> and <c>users_enriched</c>
/// (<c>partitions</c> each, default 6), <c>users_dlq</c> (1) and <c>users_dlq_replays</c> (1), kept in memory until Ctrl+C or SIGTERM. Prints
/// the bootstrap servers to give the AppHost as <c>ConnectionStrings:kafka</c>.
/// </summary>
internal static class MockBroker
{
    public const string Command = "broker";

    public static async Task<int> RunAsync(string[] args)
    {
        var partitions = 6;
        if (args.Length > 0 && (!int.TryParse(args[0], NumberStyles.None, CultureInfo.InvariantCulture, out partitions) || partitions is < 1 or > 1000))
        {
            await Console.Error.WriteLineAsync($"partitions must be a whole number from 1 to 1000; got '{args[0]}'");
            return 2;
        }

        await using var cluster = await MockKafkaCluster.StartAsync();
        cluster.CreatePipelineTopics(partitions, deadLetterPartitions: 1);

        using var stop = new CancellationTokenSource();
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        Console.WriteLine($"Kafka mock cluster listening: {cluster.BootstrapServers}");
        Console.WriteLine($"topics: {Topics.UsersCreated} ({partitions}), {Topics.UsersEnriched} ({partitions}), {Topics.DeadLetter} (1), {Topics.DeadLetterReplays} (1); Ctrl+C stops it (data is kept in memory only)");
        try
        {
            await Task.Delay(Timeout.Infinite, stop.Token);
        }
        catch (OperationCanceledException)
        {
        }

        return 0;

        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            stop.Cancel();
        }
    }
}
