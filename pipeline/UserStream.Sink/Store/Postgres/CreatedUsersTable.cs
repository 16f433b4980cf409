using Npgsql;
using UserStream.Contracts;

namespace UserStream.Sink.Store.Postgres;

/// <summary>
/// The PostgreSQL table <c>created_users</c>: the originals' columns (Spark's <c>spark_streams.created_users</c>)
/// plus every enrichment column of <see cref="EnrichedUser"/>, snake_case; its DDL, its upsert and its row mapping.
/// </summary>
internal static class CreatedUsersTable
{
    public const string Name = TableNames.CreatedUsers;

    /// <summary>Idempotent DDL; run under an advisory lock so that concurrent starters do not race.</summary>
    public const string CreateSql = """
        CREATE TABLE IF NOT EXISTS created_users (
            id               uuid PRIMARY KEY,
            first_name       text NOT NULL,
            last_name        text NOT NULL,
            gender           text NOT NULL,
            address          text NOT NULL,
            post_code        text NOT NULL,
            email            text NOT NULL,
            username         text NOT NULL,
            dob              timestamptz NOT NULL,
            registered_date  timestamptz NOT NULL,
            phone            text NOT NULL,
            picture          text NOT NULL,
            schema_version   integer NOT NULL,
            full_name        text NOT NULL,
            age              integer NOT NULL,
            age_band         text NOT NULL,
            nationality      text NOT NULL,
            email_domain     text NOT NULL,
            timezone_offset  text NULL,
            latitude         double precision NULL,
            longitude        double precision NULL,
            phone_digits     text NOT NULL,
            ingested_at      timestamptz NOT NULL,
            processed_at     timestamptz NOT NULL,
            run_id           text NULL
        );
        CREATE INDEX IF NOT EXISTS created_users_ingested_at_idx ON created_users (ingested_at DESC);
        """;

    /// <summary>Serialises schema creation across processes (an arbitrary, fixed key).</summary>
    public const long SchemaLockKey = 0x5553_4552_5354_524D; // "USERSTRM"

    private const string Columns =
        "id, first_name, last_name, gender, address, post_code, email, username, dob, registered_date, phone, picture, " +
        "schema_version, full_name, age, age_band, nationality, email_domain, timezone_offset, latitude, longitude, " +
        "phone_digits, ingested_at, processed_at, run_id";

    /// <summary>
    /// Upserts a whole batch in one statement: one array parameter per column, unnested into rows. An existing
    /// row is replaced only by a version ingested no earlier than it, so redelivery is harmless and an older
    /// version never overwrites a newer one.
    /// </summary>
    public const string UpsertSql = $"""
        INSERT INTO created_users ({Columns})
        SELECT * FROM unnest(
            $1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
            $9::timestamptz[], $10::timestamptz[], $11::text[], $12::text[], $13::integer[], $14::text[],
            $15::integer[], $16::text[], $17::text[], $18::text[], $19::text[], $20::double precision[],
            $21::double precision[], $22::text[], $23::timestamptz[], $24::timestamptz[], $25::text[])
        ON CONFLICT (id) DO UPDATE SET
            first_name = EXCLUDED.first_name, last_name = EXCLUDED.last_name, gender = EXCLUDED.gender,
            address = EXCLUDED.address, post_code = EXCLUDED.post_code, email = EXCLUDED.email,
            username = EXCLUDED.username, dob = EXCLUDED.dob, registered_date = EXCLUDED.registered_date,
            phone = EXCLUDED.phone, picture = EXCLUDED.picture, schema_version = EXCLUDED.schema_version,
            full_name = EXCLUDED.full_name, age = EXCLUDED.age, age_band = EXCLUDED.age_band,
            nationality = EXCLUDED.nationality, email_domain = EXCLUDED.email_domain,
            timezone_offset = EXCLUDED.timezone_offset, latitude = EXCLUDED.latitude, longitude = EXCLUDED.longitude,
            phone_digits = EXCLUDED.phone_digits, ingested_at = EXCLUDED.ingested_at,
            processed_at = EXCLUDED.processed_at, run_id = EXCLUDED.run_id
        WHERE created_users.ingested_at <= EXCLUDED.ingested_at
        """;

    public const string GetSql = $"SELECT {Columns} FROM created_users WHERE id = $1";

    public const string ListRecentSql = $"SELECT {Columns} FROM created_users ORDER BY ingested_at DESC, id LIMIT $1";

    public const string CountSql = "SELECT count(*) FROM created_users";

    /// <summary>
    /// The store's probe: the server answers, the table exists (else 42P01), this role may insert and update
    /// it, and the server is not a read-only standby. One round trip, nothing written.
    /// </summary>
    public const string ProbeSql =
        "SELECT has_table_privilege('created_users', 'INSERT') AND has_table_privilege('created_users', 'UPDATE') AND NOT pg_is_in_recovery()";

    /// <summary>Adds the 25 column arrays of <paramref name="users"/> as the parameters of <see cref="UpsertSql"/>.</summary>
    public static void AddUpsertParameters(NpgsqlParameterCollection parameters, IReadOnlyList<EnrichedUser> users)
    {
        Add(parameters, users, u => u.Id);
        Add(parameters, users, u => u.FirstName);
        Add(parameters, users, u => u.LastName);
        Add(parameters, users, u => u.Gender);
        Add(parameters, users, u => u.Address);
        Add(parameters, users, u => u.PostCode);
        Add(parameters, users, u => u.Email);
        Add(parameters, users, u => u.Username);
        Add(parameters, users, u => u.Dob.UtcDateTime);
        Add(parameters, users, u => u.RegisteredDate.UtcDateTime);
        Add(parameters, users, u => u.Phone);
        Add(parameters, users, u => u.Picture);
        Add(parameters, users, u => u.SchemaVersion);
        Add(parameters, users, u => u.FullName);
        Add(parameters, users, u => u.Age);
        Add(parameters, users, u => u.AgeBand);
        Add(parameters, users, u => u.Nationality);
        Add(parameters, users, u => u.EmailDomain);
        Add(parameters, users, u => u.TimezoneOffset);
        Add(parameters, users, u => u.Latitude);
        Add(parameters, users, u => u.Longitude);
        Add(parameters, users, u => u.PhoneDigits);
        Add(parameters, users, u => u.IngestedAt.UtcDateTime);
        Add(parameters, users, u => u.ProcessedAt.UtcDateTime);
        Add(parameters, users, u => u.RunId);
    }

    /// <summary>Reads a row selected with the column list of <see cref="GetSql"/>.</summary>
    public static EnrichedUser Read(NpgsqlDataReader reader) => new()
    {
        Id = reader.GetGuid(0),
        FirstName = reader.GetString(1),
        LastName = reader.GetString(2),
        Gender = reader.GetString(3),
        Address = reader.GetString(4),
        PostCode = reader.GetString(5),
        Email = reader.GetString(6),
        Username = reader.GetString(7),
        Dob = reader.GetFieldValue<DateTimeOffset>(8),
        RegisteredDate = reader.GetFieldValue<DateTimeOffset>(9),
        Phone = reader.GetString(10),
        Picture = reader.GetString(11),
        SchemaVersion = reader.GetInt32(12),
        FullName = reader.GetString(13),
        Age = reader.GetInt32(14),
        AgeBand = reader.GetString(15),
        Nationality = reader.GetString(16),
        EmailDomain = reader.GetString(17),
        TimezoneOffset = reader.IsDBNull(18) ? null : reader.GetString(18),
        Latitude = reader.IsDBNull(19) ? null : reader.GetDouble(19),
        Longitude = reader.IsDBNull(20) ? null : reader.GetDouble(20),
        PhoneDigits = reader.GetString(21),
        IngestedAt = reader.GetFieldValue<DateTimeOffset>(22),
        ProcessedAt = reader.GetFieldValue<DateTimeOffset>(23),
        RunId = reader.IsDBNull(24) ? null : reader.GetString(24),
    };

    private static void Add<T>(NpgsqlParameterCollection parameters, IReadOnlyList<EnrichedUser> users, Func<EnrichedUser, T> column)
    {
        var values = new T[users.Count];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = column(users[i]);
        }

        parameters.Add(new NpgsqlParameter<T[]> { TypedValue = values });
    }
}
