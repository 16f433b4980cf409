namespace UserStream.Process.Validation;

/// <summary>
/// A users_created value that passed validation: the fields the stage uses, typed, with absent optional
/// text as empty strings. Nothing here is null unless it is genuinely optional.
/// </summary>
public sealed record RawUser
{
    /// <summary>login.uuid.</summary>
    public required Guid Id { get; init; }
    public required string Gender { get; init; }
    public required string FirstName { get; init; }
    public required string LastName { get; init; }

    /// <summary>location.street.number as text (randomuser sends a number; some sources a string).</summary>
    public required string StreetNumber { get; init; }
    public required string StreetName { get; init; }
    public required string City { get; init; }
    public required string State { get; init; }
    public required string Country { get; init; }

    /// <summary>location.postcode as text: a number for some nationalities, a string for others.</summary>
    public required string PostCode { get; init; }
    public double? Latitude { get; init; }
    public double? Longitude { get; init; }

    /// <summary>location.timezone.offset as sent (e.g. "+9:30", "-10:00", "0:00").</summary>
    public required string TimezoneOffset { get; init; }
    public required string Email { get; init; }
    public required string Username { get; init; }
    public required DateTimeOffset Dob { get; init; }
    public required DateTimeOffset Registered { get; init; }
    public required string Phone { get; init; }

    /// <summary>picture.medium.</summary>
    public required string Picture { get; init; }

    /// <summary>nat, upper case, empty when absent.</summary>
    public required string Nationality { get; init; }
}
