using UserStream.Benchmarks;

// Every IBenchmark in this assembly, by name. Each file adds one; nothing to register here.
var benchmarks = typeof(IBenchmark).Assembly.GetTypes()
    .Where(t => t is { IsClass: true, IsAbstract: false } && typeof(IBenchmark).IsAssignableFrom(t))
    .Select(t => (IBenchmark)Activator.CreateInstance(t)!)
    .OrderBy(b => b.Name, StringComparer.Ordinal)
    .ToList();

var name = args.FirstOrDefault();
var selected = benchmarks.Where(b => name is "all" || b.Name == name).ToList();
if (selected.Count == 0)
{
    Console.WriteLine("usage: UserStream.Benchmarks <name>|all [options]");
    foreach (var benchmark in benchmarks)
    {
        Console.WriteLine($"  {benchmark.Name,-12} {benchmark.Description}");
    }

    return name is null or "list" ? 0 : 2;
}

using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancellation.Cancel();
};

foreach (var benchmark in selected)
{
    Console.WriteLine($"== {benchmark.Name}: {benchmark.Description}");
    await benchmark.RunAsync(args.Skip(1).ToArray(), cancellation.Token);
}

return 0;
