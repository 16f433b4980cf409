using System.Buffers;
using System.Security.Cryptography;
using System.Text.Encodings.Web;
using Bogus;

namespace UserStream.Ingest.Sources.Generator;

/// <summary>
/// The offline source: users of randomuser 1.4's JSON shape and variety (nationalities and their scripts,
/// postcodes as numbers or strings, national ids with a null value for some nationalities), written as
/// UTF-8 JSON bytes. Deterministic: user <c>i</c> of page <c>p</c> for seed <c>s</c> is always the same
/// bytes (each user has its own 64-bit random stream derived from s, p and i; addresses
/// and phones are drawn from fixed per-locale pools (<see cref="LocalePools"/>); dates are relative to
/// <see cref="ReferenceDate"/>, not the clock).
/// </summary>
internal sealed class UserGenerator : IUserSource
{
    /// <summary>"Now" for ages and registration dates, fixed so that output does not depend on the clock.</summary>
    public static readonly DateTimeOffset ReferenceDate = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static readonly JsonWriterOptions WriterOptions = new()
    {
        // Names stay readable UTF-8 (Cyrillic, Persian, Chinese…) as the API sends them.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = true,
    };

    private static readonly (string Offset, string Description)[] Timezones =
    [
        ("-10:00", "Hawaii"), ("-8:00", "Pacific Time (US & Canada)"), ("-7:00", "Mountain Time (US & Canada)"),
        ("-6:00", "Central Time (US & Canada), Mexico City"), ("-5:00", "Eastern Time (US & Canada), Bogota, Lima"),
        ("-3:00", "Brazil, Buenos Aires, Georgetown"), ("-1:00", "Azores, Cape Verde Islands"),
        ("0:00", "Western Europe Time, London, Lisbon, Casablanca"), ("+1:00", "Brussels, Copenhagen, Madrid, Paris"),
        ("+2:00", "Kaliningrad, South Africa"), ("+3:00", "Baghdad, Riyadh, Moscow, St. Petersburg"),
        ("+3:30", "Tehran"), ("+4:00", "Abu Dhabi, Muscat, Baku, Tbilisi"), ("+5:30", "Bombay, Calcutta, Madras, New Delhi"),
        ("+7:00", "Bangkok, Hanoi, Jakarta"), ("+8:00", "Beijing, Perth, Singapore, Hong Kong"),
        ("+9:30", "Adelaide, Darwin"), ("+10:00", "Eastern Australia, Guam, Vladivostok"),
        ("+12:00", "Auckland, Wellington, Fiji, Kamchatka"),
    ];

    private const string SaltChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    private const string PasswordChars = "abcdefghijklmnopqrstuvwxyz0123456789";

    private static readonly string[] Colors =
        ["red", "blue", "green", "yellow", "purple", "orange", "black", "white", "silver", "golden", "brown", "pink", "tiny", "happy", "lazy", "heavy", "crazy", "beautiful", "sad", "ticklish"];

    private static readonly string[] Animals =
        ["tiger", "lion", "wolf", "bear", "duck", "swan", "goose", "fish", "frog", "rabbit", "peacock", "koala", "leopard", "panda", "elephant", "zebra", "gorilla", "butterfly", "ostrich", "snake"];

    private readonly IReadOnlyList<Nationality> _nationalities;
    private readonly IngestMetrics? _metrics;
    private readonly StageTelemetry? _telemetry;

    public UserGenerator(IOptions<IngestOptions> options, IngestMetrics metrics, StageTelemetry telemetry)
        : this(options.Value.Generator.NationalityCodes())
    {
        _metrics = metrics;
        _telemetry = telemetry;
    }

    private UserGenerator(IReadOnlyList<string> nationalityCodes) =>
        _nationalities = Nationalities.Select(nationalityCodes);

    /// <summary>A generator on its own, without telemetry (tests, benchmarks, a fake API).</summary>
    public static UserGenerator Create(IReadOnlyList<string>? nationalityCodes = null) => new(nationalityCodes ?? []);

    public string Name => SourceNames.Generator;

    public Task<UserPage> FetchAsync(PageRequest request, CancellationToken cancellationToken)
    {
        using var activity = _telemetry?.Source.StartActivity("fetch generator");
        activity?.SetTag("userstream.page", request.Page);
        activity?.SetTag("userstream.results", request.Results);
        _metrics?.FetchAttempt(Name);
        return Task.FromResult(new UserPage(Generate(request, cancellationToken), Attempts: 1));
    }

    /// <summary>The users of one page, each with its login.uuid as key.</summary>
    public IReadOnlyList<FetchedUser> Generate(PageRequest request, CancellationToken cancellationToken = default)
    {
        var seed = StableHash(request.Seed);
        var random = new ReseedableRandomizer();
        var fakers = new Dictionary<string, Faker>(StringComparer.Ordinal);
        var buffer = new ArrayBufferWriter<byte>(2048);
        using var writer = new Utf8JsonWriter(buffer, WriterOptions);
        var users = new List<FetchedUser>(request.Results);
        for (var index = 0; index < request.Results; index++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            random.Reseed(UserSeed(seed, request.Page, index));
            var nationality = _nationalities[random.Number(_nationalities.Count - 1)];
            if (!fakers.TryGetValue(nationality.Locale, out var faker))
            {
                faker = new Faker(nationality.Locale) { Random = random };
                fakers.Add(nationality.Locale, faker);
            }

            buffer.ResetWrittenCount();
            writer.Reset(buffer);
            var key = WriteUser(writer, faker, LocalePools.For(nationality.Locale), nationality);
            writer.Flush();
            users.Add(new FetchedUser(key, buffer.WrittenSpan.ToArray()));
        }

        return users;
    }

    /// <summary>
    /// A few of Bogus's locale names are UTF-8 read as Latin-1 ("Ã\u0096mer" for "Ömer"); the processor rightly
    /// rejects their control characters. Such a name is decoded back; real names pass unchanged.
    /// </summary>
    internal static string RepairMojibake(string name)
    {
        if (!name.Any(char.IsControl))
        {
            return name;
        }

        var repaired = Encoding.UTF8.GetString(Encoding.Latin1.GetBytes(name));
        return repaired.Any(c => char.IsControl(c) || c == '\uFFFD') ? string.Concat(name.Where(c => !char.IsControl(c))) : repaired;
    }

    private static string WriteUser(Utf8JsonWriter w, Faker f, LocalePools pools, Nationality nationality)
    {
        var r = f.Random;
        var female = r.Bool();
        var gender = female ? Bogus.DataSets.Name.Gender.Female : Bogus.DataSets.Name.Gender.Male;
        var first = RepairMojibake(f.Name.FirstName(gender));
        var last = RepairMojibake(f.Name.LastName(gender));
        var uuid = UuidV4(r);
        var password = r.String2(r.Number(6, 12), PasswordChars);
        var salt = r.String2(8, SaltChars);
        var dob = ReferenceDate.AddSeconds(-r.Long(18L * 365 * 86_400, 80L * 365 * 86_400)).AddMilliseconds(r.Number(999));
        var registered = ReferenceDate.AddSeconds(-r.Long(86_400, 22L * 365 * 86_400)).AddMilliseconds(r.Number(999));
        var timezone = r.ArrayElement(Timezones);

        w.WriteStartObject();
        w.WriteString("gender", female ? "female" : "male");

        w.WriteStartObject("name");
        w.WriteString("title", Title(r, female, nationality.FrenchTitles));
        w.WriteString("first", first);
        w.WriteString("last", last);
        w.WriteEndObject();

        w.WriteStartObject("location");
        w.WriteStartObject("street");
        w.WriteNumber("number", r.Number(1, 9999));
        w.WriteString("name", r.ArrayElement(pools.Streets));
        w.WriteEndObject();
        w.WriteString("city", r.ArrayElement(pools.Cities));
        w.WriteString("state", r.ArrayElement(pools.States));
        w.WriteString("country", nationality.Country);
        if (nationality.Postcode == PostcodeStyle.Number)
        {
            var low = (int)Math.Pow(10, nationality.PostcodeDigits - 1);
            w.WriteNumber("postcode", r.Number(low, (low * 10) - 1));
        }
        else
        {
            w.WriteString("postcode", r.ArrayElement(pools.Postcodes));
        }

        w.WriteStartObject("coordinates");
        w.WriteString("latitude", r.Double(-90, 90).ToString("F4", CultureInfo.InvariantCulture));
        w.WriteString("longitude", r.Double(-180, 180).ToString("F4", CultureInfo.InvariantCulture));
        w.WriteEndObject();
        w.WriteStartObject("timezone");
        w.WriteString("offset", timezone.Offset);
        w.WriteString("description", timezone.Description);
        w.WriteEndObject();
        w.WriteEndObject();

        w.WriteString("email", Email(r, first, last, nationality.Locale));

        w.WriteStartObject("login");
        w.WriteString("uuid", uuid);
        w.WriteString("username", r.ArrayElement(Colors) + r.ArrayElement(Animals) + r.Number(100, 999).ToString(CultureInfo.InvariantCulture));
        w.WriteString("password", password);
        w.WriteString("salt", salt);
        var salted = Encoding.UTF8.GetBytes(password + salt);
#pragma warning disable CA5350, CA5351 // randomuser's shape carries these digests of a fake password; nothing is protected by them.
        w.WriteString("md5", Convert.ToHexStringLower(MD5.HashData(salted)));
        w.WriteString("sha1", Convert.ToHexStringLower(SHA1.HashData(salted)));
#pragma warning restore CA5350, CA5351
        w.WriteString("sha256", Convert.ToHexStringLower(SHA256.HashData(salted)));
        w.WriteEndObject();

        WriteDate(w, "dob", dob);
        WriteDate(w, "registered", registered);
        w.WriteString("phone", r.ArrayElement(pools.Phones));
        w.WriteString("cell", r.ArrayElement(pools.Phones));

        w.WriteStartObject("id");
        w.WriteString("name", nationality.IdName);
        if (nationality.IdValue(r) is { } idValue)
        {
            w.WriteString("value", idValue);
        }
        else
        {
            w.WriteNull("value");
        }

        w.WriteEndObject();

        var folder = female ? "women" : "men";
        var picture = r.Number(99).ToString(CultureInfo.InvariantCulture);
        w.WriteStartObject("picture");
        w.WriteString("large", $"https://randomuser.me/api/portraits/{folder}/{picture}.jpg");
        w.WriteString("medium", $"https://randomuser.me/api/portraits/med/{folder}/{picture}.jpg");
        w.WriteString("thumbnail", $"https://randomuser.me/api/portraits/thumb/{folder}/{picture}.jpg");
        w.WriteEndObject();

        w.WriteString("nat", nationality.Code);
        w.WriteEndObject();
        return uuid;
    }

    private static void WriteDate(Utf8JsonWriter w, string name, DateTimeOffset date)
    {
        w.WriteStartObject(name);
        w.WriteString("date", date.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
        w.WriteNumber("age", FullYears(date, ReferenceDate));
        w.WriteEndObject();
    }

    private static int FullYears(DateTimeOffset from, DateTimeOffset to)
    {
        var years = to.Year - from.Year;
        return to < from.AddYears(years) ? years - 1 : years;
    }

    private static string Title(Randomizer r, bool female, bool french) =>
        (female, french) switch
        {
            (false, false) => "Mr",
            (true, false) => r.ArrayElement(["Ms", "Mrs", "Miss"]),
            (false, true) => "Monsieur",
            (true, true) => r.ArrayElement(["Madame", "Mademoiselle"]),
        };

    /// <summary>first.last@example.com, transliterated to ASCII; scripts without a transliteration get a user number.</summary>
    private static string Email(Randomizer r, string first, string last, string locale)
    {
        var local = $"{Ascii(first, locale)}.{Ascii(last, locale)}".Trim('.');
        if (local.Length == 0 || !local.Contains('.', StringComparison.Ordinal))
        {
            local = "user" + r.Number(1000, 99999).ToString(CultureInfo.InvariantCulture);
        }

        return local + "@example.com";
    }

    private static string Ascii(string name, string locale)
    {
        var transliterated = Transliterater.Translate(name, locale);
        var builder = new StringBuilder(transliterated.Length);
        foreach (var c in transliterated.ToLowerInvariant())
        {
            if (c is >= 'a' and <= 'z' or >= '0' and <= '9')
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }

    private static string UuidV4(Randomizer r)
    {
        var bytes = r.Bytes(16);
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x40);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes, bigEndian: true).ToString();
    }

    /// <summary>FNV-1a over the seed's UTF-8 bytes: the same on every machine and process (unlike string.GetHashCode).</summary>
    internal static ulong StableHash(string seed)
    {
        var hash = 14695981039346656037UL;
        foreach (var b in Encoding.UTF8.GetBytes(seed))
        {
            hash = (hash ^ b) * 1099511628211UL;
        }

        return hash;
    }

    /// <summary>The 64-bit seed of user <paramref name="index"/> of page <paramref name="page"/>: a SplitMix64 mix of the three.</summary>
    private static ulong UserSeed(ulong seed, int page, int index)
    {
        var z = seed ^ (0x9E3779B97F4A7C15UL * ((ulong)(uint)page + 1));
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        z += 0xD1B54A32D192ED03UL * ((ulong)(uint)index + 1);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
