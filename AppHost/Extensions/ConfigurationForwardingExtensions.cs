namespace Aspire.Hosting;

/// <summary>Passes a section of the AppHost's configuration on to a resource.</summary>
public static class ConfigurationForwardingExtensions
{
    /// <summary>
    /// Sets one environment variable per value in <paramref name="section"/> (<c>Ingest:Source</c> becomes
    /// <c>Ingest__Source</c>), so the AppHost's appsettings, user secrets or command line configure a
    /// service. Values are written as they are, also into a deployment manifest: keep secrets out.
    /// </summary>
    public static IResourceBuilder<T> WithConfigurationSection<T>(this IResourceBuilder<T> builder, IConfigurationSection section)
        where T : IResourceWithEnvironment
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(section);

        foreach (var (key, value) in section.AsEnumerable())
        {
            if (value is not null)
            {
                builder.WithEnvironment(key.Replace(":", "__", StringComparison.Ordinal), value);
            }
        }

        return builder;
    }
}
