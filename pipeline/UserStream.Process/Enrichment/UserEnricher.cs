using System.Text.RegularExpressions;

namespace UserStream.Process.Enrichment;

/// <summary>
/// Transforms a validated user into its users_enriched record: the original Spark job's columns plus
/// the enrichment (full name, age and band at processing time, nationality, email domain, normalised
/// timezone offset, coordinates, digits-only phone, ingestion and processing times, run id).
/// </summary>
public static partial class UserEnricher
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
            EmailDomain = user.Email[(user.Email.LastIndexOf('@') + 1)..].ToLowerInvariant(),
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
        var match = OffsetPattern().Match(offset.Trim());
        if (!match.Success)
        {
            return null;
        }

        var hours = int.Parse(match.Groups["h"].ValueSpan, CultureInfo.InvariantCulture);
        var minutes = int.Parse(match.Groups["m"].ValueSpan, CultureInfo.InvariantCulture);
        if (hours > 14 || minutes > 59)
        {
            return null;
        }

        var sign = match.Groups["sign"].Value == "-" && (hours, minutes) != (0, 0) ? '-' : '+';
        return string.Create(CultureInfo.InvariantCulture, $"{sign}{hours:00}:{minutes:00}");
    }

    public static string Digits(string text)
    {
        var digits = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            if (char.IsAsciiDigit(c))
            {
                digits.Append(c);
            }
        }

        return digits.ToString();
    }

    private static string JoinNonBlank(string separator, params string[] parts) =>
        string.Join(separator, parts.Where(p => !string.IsNullOrWhiteSpace(p)));

    [GeneratedRegex(@"^(?<sign>[+-]?)(?<h>[0-9]{1,2}):(?<m>[0-9]{2})$", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial Regex OffsetPattern();
}
