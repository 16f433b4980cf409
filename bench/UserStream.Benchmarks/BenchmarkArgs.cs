namespace UserStream.Benchmarks;

/// <summary>The benchmarks' command-line options: <c>--name value</c> after the benchmark's name.</summary>
internal static class BenchmarkArgs
{
    /// <summary>The whole number after <paramref name="name"/>, or <paramref name="fallback"/> when it is not given.</summary>
    public static int Int(string[] args, string name, int fallback) =>
        Text(args, name) is { } text ? int.Parse(text, CultureInfo.InvariantCulture) : fallback;

    /// <summary>The value after <paramref name="name"/>, or null when it is not given.</summary>
    public static string? Text(string[] args, string name)
    {
        var at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
    }
}
