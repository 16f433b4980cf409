using UserStream.Sink.Cassandra;

namespace UserStream.Tests.Sink;

/// <summary>ConnectionStrings:cassandra is read in the driver's form, and a bad one is a clear error.</summary>
public sealed class CassandraConnectionSettingsTests
{
    [Fact]
    public void Contact_points_and_port_are_read_from_the_aspire_connection_string()
    {
        var settings = CassandraConnectionSettings.Parse("Contact Points=localhost;Port=52311");

        Assert.Equal(["localhost"], settings.ContactPoints);
        Assert.Equal(52311, settings.Port);
        Assert.Null(settings.Username);
        Assert.False(settings.UseSsl);
    }

    [Fact]
    public void Several_contact_points_credentials_and_ssl_are_read_and_the_port_defaults_to_9042()
    {
        var settings = CassandraConnectionSettings.Parse(
            "contact points = cass-1.internal, cass-2.internal ;username=sink;password=\"p;ss=word\";ssl=true");

        Assert.Equal(["cass-1.internal", "cass-2.internal"], settings.ContactPoints);
        Assert.Equal(9042, settings.Port);
        Assert.Equal("sink", settings.Username);
        Assert.Equal("p;ss=word", settings.Password);
        Assert.True(settings.UseSsl);
        Assert.DoesNotContain("p;ss=word", settings.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("Port=9042", "Contact Points")]
    [InlineData("Contact Points=localhost;Port=ninety", "Port")]
    [InlineData("Contact Points=localhost;Port=70000", "Port")]
    [InlineData("Contact Points=localhost;Keyspace=x", "Keyspace")]
    [InlineData("Contact Points=localhost;Username=sink", "Password")]
    [InlineData("Contact Points=localhost;SSL=maybe", "SSL")]
    public void A_connection_string_the_store_cannot_use_is_refused_naming_the_problem(string connectionString, string named)
    {
        var error = Assert.Throws<FormatException>(() => CassandraConnectionSettings.Parse(connectionString));

        Assert.Contains(named, error.Message, StringComparison.OrdinalIgnoreCase);
    }
}
