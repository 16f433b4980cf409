using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using UserStream.StageRunner;

// dotnet UserStream.StageRunner.dll sink|process|ingest
// Configuration comes from environment variables with the services' keys ("Sink__Batch__MaxCount",
// "ConnectionStrings__pipeline-db", "Kafka__BootstrapServers", ...); ASPNETCORE_URLS sets where HTTP listens.
// dotnet UserStream.StageRunner.dll broker [partitions]
// A Kafka for running the whole application where none is at hand: librdkafka's mock cluster with the
// pipeline's topics, until Ctrl+C (see docs/deploying.md, "Running without a container engine").
var stage = args.FirstOrDefault();
if (string.Equals(stage, MockBroker.Command, StringComparison.OrdinalIgnoreCase))
{
    return await MockBroker.RunAsync(args.Skip(1).ToArray());
}

if (stage is null || !StageEntryPoints.Known.Contains(stage, StringComparer.OrdinalIgnoreCase))
{
    Console.Error.WriteLine($"usage: UserStream.StageRunner {string.Join('|', StageEntryPoints.Known)}|{MockBroker.Command} [partitions]");
    return 2;
}

var builder = WebApplication.CreateSlimBuilder(args.Skip(1).ToArray());
builder.Logging.AddSimpleConsole(o =>
{
    o.SingleLine = true;
    o.TimestampFormat = "HH:mm:ss.fff ";
});
var entryPoints = StageEntryPoints.For(stage);
entryPoints.AddStage(builder);
var app = builder.Build();
entryPoints.MapEndpoints?.Invoke(app);
await app.RunAsync();
return 0;
