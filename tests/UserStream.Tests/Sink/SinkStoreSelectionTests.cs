using Microsoft.Extensions.Configuration;
using UserStream.Sink;

namespace UserStream.Tests.Sink;

/// <summary>The sink's store is chosen in one place, with one default.</summary>
public sealed class SinkStoreSelectionTests
{
    [Theory]
    [InlineData(null, SinkStoreKind.Postgres)]
    [InlineData("", SinkStoreKind.Postgres)]
    [InlineData("postgres", SinkStoreKind.Postgres)]
    [InlineData("Cassandra", SinkStoreKind.Cassandra)]
    public void Sink_Store_selects_the_store_and_defaults_to_postgres(string? configured, SinkStoreKind expected) =>
        Assert.Equal(expected, SinkOptions.StoreOf(Configuration(configured)));

    [Theory]
    [InlineData("mongo")]
    [InlineData("7")]
    public void An_unknown_store_is_refused_naming_the_key(string configured)
    {
        var error = Assert.Throws<InvalidOperationException>(() => SinkOptions.StoreOf(Configuration(configured)));
        Assert.Contains("Sink:Store", error.Message, StringComparison.Ordinal);
    }

    private static IConfiguration Configuration(string? store) =>
        new ConfigurationBuilder().AddInMemoryCollection([new("Sink:Store", store)]).Build();
}
