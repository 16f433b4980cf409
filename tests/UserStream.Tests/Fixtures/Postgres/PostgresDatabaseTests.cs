namespace UserStream.Tests.Fixtures;

/// <summary>The PostgreSQL fixture gives a class its own database and can make it refuse connections.</summary>
public sealed class PostgresDatabaseTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>
{
    [Fact]
    public async Task A_table_written_is_read_back()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var source = database.CreateDataSource();
        await using (var create = source.CreateCommand("CREATE TABLE IF NOT EXISTS probe (id int PRIMARY KEY, name text NOT NULL)"))
        {
            await create.ExecuteNonQueryAsync(ct);
        }

        await using (var insert = source.CreateCommand("INSERT INTO probe (id, name) VALUES ($1, $2)"))
        {
            insert.Parameters.Add(new NpgsqlParameter { Value = 7 });
            insert.Parameters.Add(new NpgsqlParameter { Value = "Zoë 李" });
            await insert.ExecuteNonQueryAsync(ct);
        }

        await using var select = source.CreateCommand("SELECT name FROM probe WHERE id = 7");
        Assert.Equal("Zoë 李", await select.ExecuteScalarAsync(ct));
        Assert.StartsWith("userstream_test_", database.Name);
    }

    [Fact]
    public async Task An_outage_refuses_connections_until_it_ends()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var source = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(database.ConnectionString) { Pooling = false }.ConnectionString);

        await database.RefuseConnectionsAsync();
        try
        {
            var refused = await Assert.ThrowsAsync<PostgresException>(async () => await source.OpenConnectionAsync(ct));
            Assert.Equal(PostgresErrorCodes.ObjectNotInPrerequisiteState, refused.SqlState);
        }
        finally
        {
            await database.AcceptConnectionsAsync();
        }

        await using var connection = await source.OpenConnectionAsync(ct);
        Assert.Equal(System.Data.ConnectionState.Open, connection.State);
    }
}
