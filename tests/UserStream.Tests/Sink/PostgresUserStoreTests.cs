using UserStream.Sink.Store.Postgres;

namespace UserStream.Tests.Sink;

/// <summary>The PostgreSQL store on a real database: what is written is what is read, newest version wins.</summary>
public sealed class PostgresUserStoreTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>, IAsyncLifetime
{
    private NpgsqlDataSource? _source;
    private PostgresUserStore? _store;

    private PostgresUserStore Store => _store!;

    public async ValueTask InitializeAsync()
    {
        _source = database.CreateDataSource();
        _store = new PostgresUserStore(_source);
        await _store.InitializeAsync(Ct);
    }

    public async ValueTask DisposeAsync()
    {
        if (_source is not null)
        {
            await _source.DisposeAsync();
        }
    }

    [Fact]
    public async Task Every_field_written_is_read_back_equal()
    {
        var users = TestUsers.Users(250, seed: 7);

        await Store.WriteAsync(users, Ct);

        foreach (var user in users)
        {
            Assert.Equal(user, await Store.GetAsync(user.Id, Ct));
        }
    }

    [Fact]
    public async Task Writing_the_same_users_again_adds_no_row()
    {
        var users = TestUsers.Users(40, seed: 8);
        var before = await Store.CountAsync(Ct);

        await Store.WriteAsync(users, Ct);
        await Store.WriteAsync(users, Ct);
        await Store.WriteAsync(users[..10], Ct);

        Assert.Equal(before + users.Count, await Store.CountAsync(Ct));
    }

    [Fact]
    public async Task An_older_version_never_overwrites_a_newer_one_across_or_within_batches()
    {
        var older = TestUsers.Users(2, seed: 9, ingestedAt: TestUsers.Micro(DateTimeOffset.UtcNow.AddMinutes(-5)));
        var newer = older.Select(u => u with { FirstName = "Newer", IngestedAt = u.IngestedAt.AddMinutes(1) }).ToList();

        // Across batches: the newer version first, the older one afterwards.
        await Store.WriteAsync([newer[0]], Ct);
        await Store.WriteAsync([older[0]], Ct);
        // Within one batch: the newer version first.
        await Store.WriteAsync([newer[1], older[1]], Ct);

        Assert.Equal(newer[0], await Store.GetAsync(older[0].Id, Ct));
        Assert.Equal(newer[1], await Store.GetAsync(older[1].Id, Ct));

        // And a newer version does replace an older one.
        var newest = newer[0] with { FirstName = "Newest", IngestedAt = newer[0].IngestedAt.AddSeconds(1) };
        await Store.WriteAsync([newest], Ct);
        Assert.Equal(newest, await Store.GetAsync(newest.Id, Ct));
    }

    [Fact]
    public async Task Recent_users_come_newest_first_and_absent_ids_are_null()
    {
        var users = TestUsers.Users(30, seed: 10, ingestedAt: TestUsers.Micro(DateTimeOffset.UtcNow.AddYears(5)));
        await Store.WriteAsync(users, Ct);

        var recent = await Store.ListRecentAsync(5, Ct);

        Assert.Equal(users.OrderByDescending(u => u.IngestedAt).Take(5), recent);
        Assert.Null(await Store.GetAsync(Guid.NewGuid(), Ct));
    }

    [Fact]
    public async Task A_value_postgres_refuses_fails_the_write_permanently_and_writes_nothing_of_that_batch()
    {
        var users = TestUsers.Users(3, seed: 11);
        var poisoned = users[1] with { FirstName = "nul\0byte" };

        var failure = await Assert.ThrowsAnyAsync<Exception>(() => Store.WriteAsync([users[0], poisoned, users[2]], Ct));

        Assert.Equal(PostgresErrorCodes.CharacterNotInRepertoire, Assert.IsType<PostgresException>(failure).SqlState);
        Assert.False(Store.IsTransient(failure));
        Assert.Null(await Store.GetAsync(users[0].Id, Ct));
    }

    [Fact]
    public async Task Failures_while_the_database_refuses_connections_are_transient_and_the_store_recovers()
    {
        var users = TestUsers.Users(5, seed: 12);
        await database.RefuseConnectionsAsync();
        Exception failure;
        try
        {
            failure = await Assert.ThrowsAnyAsync<Exception>(() => Store.WriteAsync(users, Ct));
        }
        finally
        {
            await database.AcceptConnectionsAsync();
        }

        Assert.True(Store.IsTransient(failure), failure.ToString());
        await Store.WriteAsync(users, Ct);
        Assert.Equal(users[4], await Store.GetAsync(users[4].Id, Ct));
    }

    [Theory]
    [InlineData("22021", false)] // character_not_in_repertoire (a NUL in text)
    [InlineData("22P02", false)] // invalid_text_representation
    [InlineData("23502", false)] // not_null_violation
    [InlineData("54000", false)] // program_limit_exceeded
    [InlineData("55000", true)] // database is not currently accepting connections
    [InlineData("57P01", true)] // admin_shutdown
    [InlineData("57P03", true)] // cannot_connect_now
    [InlineData("08006", true)] // connection_failure
    [InlineData("53300", true)] // too_many_connections
    [InlineData("40001", true)] // serialization_failure
    [InlineData("42P01", true)] // undefined_table: the store's state, never the record's fault
    public void Server_errors_blame_the_record_only_when_its_data_caused_them(string sqlState, bool transient)
    {
        var error = new PostgresException("test", "ERROR", "ERROR", sqlState);

        Assert.Equal(transient, Store.IsTransient(error));
        Assert.Equal(transient, Store.IsTransient(new InvalidOperationException("wrapped", error)));
    }

    [Fact]
    public void Connection_failures_and_timeouts_are_transient_while_our_own_cancellation_and_bad_values_are_not()
    {
        Assert.True(Store.IsTransient(new NpgsqlException("Exception while connecting", new System.Net.Sockets.SocketException(111))));
        Assert.True(Store.IsTransient(new NpgsqlException("Exception while reading from stream", new TimeoutException())));
        Assert.True(Store.IsTransient(new TimeoutException()));
        Assert.False(Store.IsTransient(new OperationCanceledException()));
        Assert.False(Store.IsTransient(new InvalidCastException("Cannot write DateTime with Kind=Local")));
    }

    [Fact]
    public async Task Schema_creation_is_idempotent_and_safe_when_run_concurrently()
    {
        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Store.InitializeAsync(Ct)));

        await using var command = _source!.CreateCommand(
            "SELECT count(*) FROM pg_indexes WHERE tablename = 'created_users' AND indexdef LIKE '%(ingested_at DESC)%'");
        Assert.Equal(1L, await command.ExecuteScalarAsync(Ct));
    }
}
