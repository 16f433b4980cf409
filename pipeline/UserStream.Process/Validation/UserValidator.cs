using System.Text.Unicode;

namespace UserStream.Process.Validation;

/// <summary>
/// Decides whether a users_created record (key + value bytes) is a user the pipeline accepts, and reads
/// it into a <see cref="RawUser"/>; otherwise says why, with a stable code (<see cref="UserStream.Contracts.DeadLetterCodes"/>).
/// It never throws, whatever the bytes.
/// </summary>
/// <remarks>
/// Required: <c>login.uuid</c> (a UUID equal to the record's key), <c>name.first</c> and <c>name.last</c>
/// (strings, not both blank), <c>email</c> (local@domain), <c>dob.date</c> and <c>registered.date</c>
/// (ISO-8601, not before <see cref="ValidationOptions.EarliestDate"/>, not in the future). Every other
/// field may be absent or null; when given it must have its type. Unknown fields are ignored.
/// </remarks>
public sealed class UserValidator(ValidationOptions options)
{
    private static readonly string[] DateFormats =
    [
        "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK",
        "yyyy-MM-dd'T'HH:mm:ssK",
        "yyyy-MM-dd'T'HH:mmK",
        "yyyy-MM-dd",
    ];

    private static ReadOnlySpan<byte> Utf8Bom => [0xEF, 0xBB, 0xBF];

    // The required top-level fields, by their names in RandomUserFields, as UTF-8 (what JsonElement compares).
    private static readonly byte[] LoginField = Encoding.UTF8.GetBytes(RandomUserFields.Login);
    private static readonly byte[] NameField = Encoding.UTF8.GetBytes(RandomUserFields.Name);
    private static readonly byte[] EmailField = Encoding.UTF8.GetBytes(RandomUserFields.Email);
    private static readonly byte[] DobField = Encoding.UTF8.GetBytes(RandomUserFields.Dob);
    private static readonly byte[] RegisteredField = Encoding.UTF8.GetBytes(RandomUserFields.Registered);

    /// <summary>Validates one record at processing time <paramref name="now"/>.</summary>
    public ValidationOutcome Validate(string? key, byte[]? value, DateTimeOffset now)
    {
        try
        {
            return ValidateCore(key, value, now);
        }
#pragma warning disable CA1031 // Bad input must never crash the stage: an unforeseen failure is a rejection, not a crash loop.
        catch (Exception e)
#pragma warning restore CA1031
        {
            return ValidationOutcome.Rejected(DeadLetterCodes.ProcessingFailed, $"validation failed unexpectedly: {e.GetType().Name}: {e.Message}");
        }
    }

    private ValidationOutcome ValidateCore(string? key, byte[]? value, DateTimeOffset now)
    {
        if (value is not { Length: > 0 })
        {
            return ValidationOutcome.Rejected(DeadLetterCodes.Empty, value is null ? "the value is null (a tombstone)" : "the value is zero bytes");
        }

        if (value.Length > options.MaxRecordBytes)
        {
            return ValidationOutcome.Rejected(DeadLetterCodes.TooLarge, $"the value is {value.Length} bytes; at most {options.MaxRecordBytes} are accepted");
        }

        ReadOnlyMemory<byte> memory = value;
        var bytes = memory.Span;
        if (!Utf8.IsValid(bytes))
        {
            return ValidationOutcome.Rejected(DeadLetterCodes.NotUtf8, "the value is not valid UTF-8");
        }

        if (bytes.StartsWith(Utf8Bom))
        {
            memory = memory[Utf8Bom.Length..];
            bytes = memory.Span;
        }

        if (JsonStructure.Check(bytes, options.MaxDepth) is { } structural)
        {
            return ValidationOutcome.Rejected(structural);
        }

        using var document = JsonDocument.Parse(memory, new JsonDocumentOptions { MaxDepth = options.MaxDepth + 1 });
        return Read(document.RootElement, key, now);
    }

    private ValidationOutcome Read(JsonElement root, string? key, DateTimeOffset now)
    {
        var fields = new FieldReader(options.MaxFieldLength);

        var login = fields.Object(root, LoginField, "login", required: true);
        var uuid = fields.Text(login, "uuid"u8, "login.uuid", required: true);
        if (fields.Error is { } loginError)
        {
            return ValidationOutcome.Rejected(loginError);
        }

        if (!Guid.TryParseExact(uuid, "D", out var id))
        {
            return ValidationOutcome.Rejected(DeadLetterCodes.InvalidId, $"login.uuid '{Shorten(uuid)}' is not a UUID (8-4-4-4-12 hex digits)");
        }

        if (key is null)
        {
            return ValidationOutcome.Rejected(DeadLetterCodes.KeyMismatch, "the record has no key; users_created is keyed by login.uuid");
        }

        if (!Guid.TryParse(key, out var keyId) || keyId != id)
        {
            return ValidationOutcome.Rejected(DeadLetterCodes.KeyMismatch, $"the record's key '{Shorten(key)}' is not its login.uuid {id}");
        }

        var name = fields.Object(root, NameField, "name", required: true);
        var first = fields.Text(name, "first"u8, "name.first", required: true);
        var last = fields.Text(name, "last"u8, "name.last", required: true);
        var email = fields.Text(root, EmailField, "email", required: true);
        var dobText = fields.Text(fields.Object(root, DobField, "dob", required: true), "date"u8, "dob.date", required: true);
        var registeredText = fields.Text(fields.Object(root, RegisteredField, "registered", required: true), "date"u8, "registered.date", required: true);

        var gender = fields.Text(root, "gender"u8, "gender");
        var location = fields.Object(root, "location"u8, "location");
        var street = fields.Object(location, "street"u8, "location.street");
        var streetNumber = fields.TextOrNumber(street, "number"u8, "location.street.number");
        var streetName = fields.Text(street, "name"u8, "location.street.name");
        var city = fields.Text(location, "city"u8, "location.city");
        var state = fields.Text(location, "state"u8, "location.state");
        var country = fields.Text(location, "country"u8, "location.country");
        var postCode = fields.TextOrNumber(location, "postcode"u8, "location.postcode");
        var coordinates = fields.Object(location, "coordinates"u8, "location.coordinates");
        var latitude = fields.Coordinate(coordinates, "latitude"u8, "location.coordinates.latitude", 90);
        var longitude = fields.Coordinate(coordinates, "longitude"u8, "location.coordinates.longitude", 180);
        var offset = fields.Text(fields.Object(location, "timezone"u8, "location.timezone"), "offset"u8, "location.timezone.offset");
        var username = fields.Text(login, "username"u8, "login.username");
        var phone = fields.Text(root, "phone"u8, "phone");
        var picture = fields.Text(fields.Object(root, "picture"u8, "picture"), "medium"u8, "picture.medium");
        var nationality = fields.Text(root, "nat"u8, "nat");

        // Types of the fields the stage does not use, so that a wrong type anywhere known is caught.
        fields.Text(name, "title"u8, "name.title");
        fields.Text(root, "cell"u8, "cell");
        var idDocument = fields.Object(root, "id"u8, "id");
        fields.Text(idDocument, "name"u8, "id.name");
        fields.Text(idDocument, "value"u8, "id.value");

        if (fields.Error is { } fieldError)
        {
            return ValidationOutcome.Rejected(fieldError);
        }

        if (string.IsNullOrWhiteSpace(first) && string.IsNullOrWhiteSpace(last))
        {
            return ValidationOutcome.Rejected(DeadLetterCodes.MissingField, "name.first and name.last are both blank");
        }

        var at = email.LastIndexOf('@');
        if (at <= 0 || at == email.Length - 1 || email.AsSpan().ContainsAny(" \t"))
        {
            return ValidationOutcome.Rejected(DeadLetterCodes.InvalidValue, $"email '{Shorten(email)}' is not local@domain");
        }

        if (nationality.Length > 0 && !(nationality.Length == 2 && char.IsAsciiLetter(nationality[0]) && char.IsAsciiLetter(nationality[1])))
        {
            return ValidationOutcome.Rejected(DeadLetterCodes.InvalidValue, $"nat '{Shorten(nationality)}' is not a two-letter country code");
        }

        var (dob, dobError) = CheckDate(dobText, "dob.date", now, TimeSpan.Zero);
        if (dobError is not null)
        {
            return ValidationOutcome.Rejected(dobError);
        }

        var (registered, registeredError) = CheckDate(registeredText, "registered.date", now, options.AllowedClockSkew);
        if (registeredError is not null)
        {
            return ValidationOutcome.Rejected(registeredError);
        }

        return ValidationOutcome.Valid(new RawUser
        {
            Id = id,
            Gender = gender,
            FirstName = first,
            LastName = last,
            StreetNumber = streetNumber,
            StreetName = streetName,
            City = city,
            State = state,
            Country = country,
            PostCode = postCode,
            Latitude = latitude,
            Longitude = longitude,
            TimezoneOffset = offset,
            Email = email,
            Username = username,
            Dob = dob,
            Registered = registered,
            Phone = phone,
            Picture = picture,
            Nationality = nationality.ToUpperInvariant(),
        });
    }

    private (DateTimeOffset Date, Rejection? Error) CheckDate(string text, string path, DateTimeOffset now, TimeSpan skew)
    {
        if (!TryParseUtcMilliseconds(text, out var date) && !DateTimeOffset.TryParseExact(
                text, DateFormats, CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out date))
        {
            return (default, new Rejection(DeadLetterCodes.InvalidDate, $"{path} '{Shorten(text)}' is not an ISO-8601 date"));
        }

        if (date > now + skew)
        {
            return (default, new Rejection(DeadLetterCodes.InvalidDate, $"{path} {date:O} lies in the future"));
        }

        if (date < options.EarliestDate)
        {
            return (default, new Rejection(DeadLetterCodes.InvalidDate, $"{path} {date:O} is before {options.EarliestDate:yyyy-MM-dd}"));
        }

        return (date, null);
    }

    /// <summary>
    /// randomuser's form, <c>yyyy-MM-ddTHH:mm:ss.fffZ</c>, read without the general parser: the value the first of
    /// <see cref="DateFormats"/> gives it. False for anything else (the general parser decides).
    /// </summary>
    private static bool TryParseUtcMilliseconds(string text, out DateTimeOffset date)
    {
        date = default;
        if (text.Length != 24 || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' || text[16] != ':'
            || text[19] != '.' || text[23] != 'Z'
            || !TryDigits(text.AsSpan(0, 4), out var year) || !TryDigits(text.AsSpan(5, 2), out var month) || !TryDigits(text.AsSpan(8, 2), out var day)
            || !TryDigits(text.AsSpan(11, 2), out var hour) || !TryDigits(text.AsSpan(14, 2), out var minute)
            || !TryDigits(text.AsSpan(17, 2), out var second) || !TryDigits(text.AsSpan(20, 3), out var millisecond)
            || year < 1 || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month) || hour > 23 || minute > 59 || second > 59)
        {
            return false;
        }

        date = new DateTimeOffset(year, month, day, hour, minute, second, millisecond, TimeSpan.Zero);
        return true;
    }

    private static bool TryDigits(ReadOnlySpan<char> text, out int value)
    {
        value = 0;
        foreach (var c in text)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }

            value = value * 10 + (c - '0');
        }

        return true;
    }

    /// <summary>Input quoted in a reason, cut short (the reason header has a limit and the value is in the record anyway).</summary>
    private static string Shorten(string text) => text.Length <= 64 ? text : text[..64] + "…";
}
