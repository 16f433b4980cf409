namespace UserStream.Process.Enrichment;

/// <summary>
/// Transforms a validated user into its users_enriched record: the original Spark job's columns plus
/// the enrichment (full name, age and band at processing time, nationality, email domain, normalised
/// timezone offset, coordinates, digits-only phone, ingestion and processing times, run id).
/// </summary>
public static class UserEnricher
{
    public static EnrichedUser Enrich(RawUser user, RecordContext context, DateTimeOffset processedAt)
    {
        var age = AgeAt(user.Dob, processedAt);
        return new EnrichedUser
        {
            Id = user.Id,
            FirstName = user.FirstName,
            LastName = user.LastName,
            Gender = user.Gender,
            Address = Address(user),
            PostCode = user.PostCode,
            Email = user.Email,
            Username = user.Username,
            Dob = user.Dob,
            RegisteredDate = user.Registered,
            Phone = user.Phone,
            Picture = user.Picture,
            FullName = JoinNonBlank(" ", user.FirstName.Trim(), user.LastName.Trim()),
            Age = age,
            AgeBand = AgeBands.Of(age),
            Nationality = user.Nationality,
            EmailDomain = LowerInvariant(user.Email.AsSpan(user.Email.LastIndexOf('@') + 1)),
            TimezoneOffset = NormaliseOffset(user.TimezoneOffset),
            Latitude = user.Latitude,
            Longitude = user.Longitude,
            PhoneDigits = Digits(user.Phone),
            IngestedAt = context.IngestedAt,
            ProcessedAt = processedAt,
            RunId = context.RunId,
        };
    }

    /// <summary>Whole years from <paramref name="dob"/> to <paramref name="at"/> (UTC calendar dates).</summary>
    public static int AgeAt(DateTimeOffset dob, DateTimeOffset at)
    {
        var born = dob.UtcDateTime;
        var now = at.UtcDateTime;
        var age = now.Year - born.Year;
        if (now.Month < born.Month || (now.Month == born.Month && now.Day < born.Day))
        {
            age--;
        }

        return Math.Max(age, 0);
    }

    /// <summary>
    /// "{street number} {street name}, {city}, {state}, {country}" as the original projects built it;
    /// parts that are not given are left out rather than leaving stray separators.
    /// </summary>
    public static string Address(RawUser user) =>
        JoinNonBlank(", ", JoinNonBlank(" ", user.StreetNumber, user.StreetName), user.City, user.State, user.Country);

    /// <summary>"+9:30" → "+09:30", "0:00" → "+00:00", "-3:30" → "-03:30"; null when absent or malformed.</summary>
    public static string? NormaliseOffset(string offset)
    {
        // The whole of the trimmed text: an optional sign, one or two ASCII digits, ':', two ASCII digits.
        var text = offset.AsSpan().Trim();
        var negative = false;
        if (text.Length > 0 && text[0] is '+' or '-')
        {
            negative = text[0] == '-';
            text = text[1..];
        }

        var colon = text.IndexOf(':');
        if (colon is < 1 or > 2 || text.Length != colon + 3
            || !IsAsciiDigits(text[..colon]) || !IsAsciiDigits(text[(colon + 1)..]))
        {
            return null;
        }

        var hours = int.Parse(text[..colon], CultureInfo.InvariantCulture);
        var minutes = int.Parse(text[(colon + 1)..], CultureInfo.InvariantCulture);
        if (hours > 14 || minutes > 59)
        {
            return null;
        }

        var sign = negative && (hours, minutes) != (0, 0) ? '-' : '+';
        return string.Create(CultureInfo.InvariantCulture, $"{sign}{hours:00}:{minutes:00}");
    }

    public static string Digits(string text)
    {
        var count = 0;
        foreach (var c in text)
        {
            if (char.IsAsciiDigit(c))
            {
                count++;
            }
        }

        if (count == text.Length)
        {
            return text;
        }

        return string.Create(count, text, static (digits, text) =>
        {
            var at = 0;
            foreach (var c in text)
            {
                if (char.IsAsciiDigit(c))
                {
                    digits[at++] = c;
                }
            }
        });
    }

    private static bool IsAsciiDigits(ReadOnlySpan<char> text) => !text.ContainsAnyExceptInRange('0', '9');

    private static string LowerInvariant(ReadOnlySpan<char> text)
    {
        Span<char> lower = text.Length <= 256 ? stackalloc char[text.Length] : new char[text.Length];
        text.ToLowerInvariant(lower);
        return new string(lower);
    }

    /// <summary>The parts that are not blank, joined with <paramref name="separator"/> (string.Join of them).</summary>
    private static string JoinNonBlank(string separator, params ReadOnlySpan<string> parts)
    {
        var length = 0;
        var count = 0;
        string? only = null;
        foreach (var part in parts)
        {
            if (!string.IsNullOrWhiteSpace(part))
            {
                length += part.Length;
                count++;
                only = part;
            }
        }

        if (count <= 1)
        {
            return only ?? "";
        }

        var joined = new StringBuilder(length + (count - 1) * separator.Length);
        foreach (var part in parts)
        {
            if (!string.IsNullOrWhiteSpace(part))
            {
                if (joined.Length > 0)
                {
                    joined.Append(separator);
                }

                joined.Append(part);
            }
        }

        return joined.ToString();
    }
}
