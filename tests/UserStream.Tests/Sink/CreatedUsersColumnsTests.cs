using UserStream.Sink.Store;

namespace UserStream.Tests.Sink;

/// <summary>The column map of created_users is the contract's fields, named as the contract's JSON names them.</summary>
public sealed class CreatedUsersColumnsTests
{
    [Fact]
    public void Every_field_of_the_contract_is_one_column_named_as_in_the_contracts_json()
    {
        using var json = JsonDocument.Parse(EnrichedUserJson.Serialize(CassandraTestUsers.Complete()));

        var fields = json.RootElement.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal);

        Assert.Equal(fields, CreatedUsersColumns.All.Select(c => c.Name).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_user_read_back_from_its_column_values_is_the_user()
    {
        var user = CassandraTestUsers.Complete() with { TimezoneOffset = null, Latitude = null };
        var values = CreatedUsersColumns.All.ToDictionary(c => c.Name, c => c.Value(user), StringComparer.Ordinal);

        Assert.Equal(user, CreatedUsersColumns.Read(name => values[name]));
    }

    [Fact]
    public void A_missing_required_value_is_named()
    {
        var user = CassandraTestUsers.Complete() with { Email = null! };

        Assert.Equal("email", CreatedUsersColumns.FirstMissing(user));
        Assert.Equal("id", CreatedUsersColumns.FirstMissing(user with { Id = Guid.Empty }));
        Assert.Null(CreatedUsersColumns.FirstMissing(CassandraTestUsers.Complete() with { RunId = null }));
    }
}
