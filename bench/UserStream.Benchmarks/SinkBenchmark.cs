using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using NpgsqlTypes;
using UserStream.Sink;
using UserStream.Sink.Store.Postgres;

namespace UserStream.Benchmarks;

/// <summary>
/// The sink into PostgreSQL: rows/s of the store's batch upsert (one unnest statement per batch) for batch
/// sizes 1, 100 and 1,000, beside the alternative it was chosen over (binary COPY into a temporary staging
/// table, then one upsert from it); then end to end, users_enriched on a mock cluster → sink stage →
/// created_users, offsets committed after each write. Every phase checks that each row landed.
/// Arguments: [rows per store phase] (default 20000).
/// </summary>
public sealed class SinkBenchmark : IBenchmark
{
    private static readonly int[] BatchSizes = [1, 100, 1_000];

    /// <summary>Enough that no partition of the mock reaches its 5 MiB retention during a run.</summary>
    private const int Partitions = 12;

    public string Name => "sink";

    public string Description => "users_enriched → created_users: rows/s per batch size (store upsert, COPY alternative, end to end); checks nothing is lost";

    public async Task RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var rows = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 20_000;
        await using var database = await PostgresTestDatabase.CreateAsync();
        await using var dataSource = database.CreateDataSource();
        var store = new PostgresUserStore(dataSource);
        await store.InitializeAsync(cancellationToken);

        Console.WriteLine($"store upsert (unnest, one round trip per batch) vs COPY into staging + upsert; {rows:N0} rows per run (batch size 1: {rows / 10:N0})");
        foreach (var size in BatchSizes)
        {
            var count = size == 1 ? rows / 10 : rows;
            await MeasureAsync("unnest upsert", size, count, users => store.WriteAsync(users, cancellationToken), store, cancellationToken);
            await MeasureAsync("COPY + upsert", size, count, users => CopyUpsertAsync(dataSource, users, cancellationToken), store, cancellationToken);
        }

        Console.WriteLine($"end to end: mock Kafka ({Partitions} partitions) → sink stage → PostgreSQL, commit after each write; timed from the first produce, after a warm-up record landed");
        await using var cluster = await MockKafkaCluster.StartAsync();
        foreach (var size in BatchSizes)
        {
            await EndToEndAsync(cluster, database, size, size == 1 ? 2_000 : rows, store, cancellationToken);
        }
    }

    private static async Task MeasureAsync(
        string method, int batchSize, int count, Func<IReadOnlyList<EnrichedUser>, Task> write, PostgresUserStore store, CancellationToken cancellationToken)
    {
        var users = TestUsers.Users(count);
        var batches = users.Chunk(batchSize).ToList();
        await write(TestUsers.Users(batchSize)); // warm-up (connection, plan)
        var before = await store.CountAsync(cancellationToken);
        var latencies = new List<double>(batches.Count);
        var clock = Stopwatch.StartNew();
        foreach (var batch in batches)
        {
            var started = Stopwatch.GetTimestamp();
            await write(batch);
            latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }

        clock.Stop();
        var landed = await store.CountAsync(cancellationToken) - before;
        var spot = users[count / 2];
        var ok = landed == count && Equals(await store.GetAsync(spot.Id, cancellationToken), spot);
        latencies.Sort();
        var verdict = ok ? $"all {count:N0} rows landed" : $"LOST: {landed:N0} of {count:N0} rows";
        Console.WriteLine(
            $"  {method,-14} batch {batchSize,5}: {count / clock.Elapsed.TotalSeconds,10:N0} rows/s  " +
            $"(batch p50 {latencies[latencies.Count / 2]:F2} ms, p99 {latencies[(int)(latencies.Count * 0.99)]:F2} ms)  {verdict}");
    }

    private static async Task EndToEndAsync(
        MockKafkaCluster cluster, PostgresTestDatabase database, int batchSize, int count, PostgresUserStore store, CancellationToken cancellationToken)
    {
        var topic = $"users_enriched_bench_{batchSize}";
        cluster.CreateTopic(topic, partitions: Partitions);
        cluster.CreateTopic(topic + "_dlq", partitions: 1);
        var users = TestUsers.Users(count);
        var before = await store.CountAsync(cancellationToken);

        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Kafka:BootstrapServers"] = cluster.BootstrapServers,
            ["ConnectionStrings:pipeline-db"] = database.ConnectionString,
            ["Sink:Topic"] = topic,
            ["Sink:DeadLetterTopic"] = topic + "_dlq",
            ["Sink:GroupId"] = topic,
            ["Sink:Batch:MaxCount"] = batchSize.ToString(CultureInfo.InvariantCulture),
            ["Sink:Batch:MaxWait"] = "00:00:00.050",
        });
        builder.Logging.ClearProviders().AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);
        builder.AddSinkStage();
        using var host = builder.Build();
        await host.StartAsync(cancellationToken);

        using var producer = TestKafka.CreateProducer(cluster.BootstrapServers);

        // Warm-up: one record through, so that the group has formed and the schema exists.
        var warmUp = TestUsers.Users(1)[0];
        await producer.ProduceAsync(topic, new Message<string, byte[]> { Key = warmUp.Id.ToString(), Value = EnrichedUserJson.Serialize(warmUp) }, cancellationToken);
        while (await store.GetAsync(warmUp.Id, cancellationToken) is null)
        {
            await Task.Delay(10, cancellationToken);
        }

        before = await store.CountAsync(cancellationToken);
        var clock = Stopwatch.StartNew();
        foreach (var user in users)
        {
            producer.Produce(topic, new Message<string, byte[]> { Key = user.Id.ToString(), Value = EnrichedUserJson.Serialize(user) });
        }

        producer.Flush(cancellationToken);

        long landed;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while ((landed = await store.CountAsync(cancellationToken) - before) < count && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10, cancellationToken);
        }

        clock.Stop();
        await host.StopAsync(cancellationToken);
        var verdict = landed == count ? $"all {count:N0} rows landed" : $"LOST: {landed:N0} of {count:N0} rows within 60 s";
        Console.WriteLine(
            $"  end to end     batch {batchSize,5}: {landed / clock.Elapsed.TotalSeconds,10:N0} rows/s  ({clock.Elapsed.TotalSeconds:F2} s)  {verdict}");
    }

    /// <summary>
    /// The alternative write path measured against the store's: binary COPY of the batch into a temporary table,
    /// then one INSERT … SELECT … ON CONFLICT from it, in one transaction. Same newer-wins guard.
    /// </summary>
    private static async Task CopyUpsertAsync(NpgsqlDataSource dataSource, IReadOnlyList<EnrichedUser> users, CancellationToken cancellationToken)
    {
        const string columns =
            "id, first_name, last_name, gender, address, post_code, email, username, dob, registered_date, phone, picture, " +
            "schema_version, full_name, age, age_band, nationality, email_domain, timezone_offset, latitude, longitude, " +
            "phone_digits, ingested_at, processed_at, run_id";
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var create = new NpgsqlCommand(
            "CREATE TEMP TABLE IF NOT EXISTS created_users_staging (LIKE created_users) ON COMMIT DELETE ROWS", connection, transaction))
        {
            await create.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var import = await connection.BeginBinaryImportAsync($"COPY created_users_staging ({columns}) FROM STDIN (FORMAT BINARY)", cancellationToken))
        {
            foreach (var u in users)
            {
                await import.StartRowAsync(cancellationToken);
                await import.WriteAsync(u.Id, NpgsqlDbType.Uuid, cancellationToken);
                foreach (var text in new[] { u.FirstName, u.LastName, u.Gender, u.Address, u.PostCode, u.Email, u.Username })
                {
                    await import.WriteAsync(text, NpgsqlDbType.Text, cancellationToken);
                }

                await import.WriteAsync(u.Dob.UtcDateTime, NpgsqlDbType.TimestampTz, cancellationToken);
                await import.WriteAsync(u.RegisteredDate.UtcDateTime, NpgsqlDbType.TimestampTz, cancellationToken);
                await import.WriteAsync(u.Phone, NpgsqlDbType.Text, cancellationToken);
                await import.WriteAsync(u.Picture, NpgsqlDbType.Text, cancellationToken);
                await import.WriteAsync(u.SchemaVersion, NpgsqlDbType.Integer, cancellationToken);
                await import.WriteAsync(u.FullName, NpgsqlDbType.Text, cancellationToken);
                await import.WriteAsync(u.Age, NpgsqlDbType.Integer, cancellationToken);
                foreach (var text in new[] { u.AgeBand, u.Nationality, u.EmailDomain })
                {
                    await import.WriteAsync(text, NpgsqlDbType.Text, cancellationToken);
                }

                await WriteNullableAsync(import, u.TimezoneOffset, NpgsqlDbType.Text, cancellationToken);
                await WriteNullableAsync(import, u.Latitude, NpgsqlDbType.Double, cancellationToken);
                await WriteNullableAsync(import, u.Longitude, NpgsqlDbType.Double, cancellationToken);
                await import.WriteAsync(u.PhoneDigits, NpgsqlDbType.Text, cancellationToken);
                await import.WriteAsync(u.IngestedAt.UtcDateTime, NpgsqlDbType.TimestampTz, cancellationToken);
                await import.WriteAsync(u.ProcessedAt.UtcDateTime, NpgsqlDbType.TimestampTz, cancellationToken);
                await WriteNullableAsync(import, u.RunId, NpgsqlDbType.Text, cancellationToken);
            }

            await import.CompleteAsync(cancellationToken);
        }

        var updates = string.Join(", ", columns.Split(", ").Skip(1).Select(c => $"{c} = EXCLUDED.{c}"));
        await using (var upsert = new NpgsqlCommand(
            $"INSERT INTO created_users ({columns}) SELECT {columns} FROM created_users_staging " +
            $"ON CONFLICT (id) DO UPDATE SET {updates} WHERE created_users.ingested_at <= EXCLUDED.ingested_at", connection, transaction))
        {
            await upsert.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    private static async Task WriteNullableAsync<T>(NpgsqlBinaryImporter import, T? value, NpgsqlDbType type, CancellationToken cancellationToken)
    {
        if (value is null)
        {
            await import.WriteNullAsync(cancellationToken);
        }
        else
        {
            await import.WriteAsync(value, type, cancellationToken);
        }
    }
}
