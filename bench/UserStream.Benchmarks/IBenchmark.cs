namespace UserStream.Benchmarks;

/// <summary>A benchmark program: runs against real peers it starts itself and prints its figures.</summary>
public interface IBenchmark
{
    /// <summary>The name it is run by: <c>dotnet run -c Release --project bench/UserStream.Benchmarks -- NAME</c>.</summary>
    string Name { get; }

    string Description { get; }

    Task RunAsync(string[] args, CancellationToken cancellationToken);
}
