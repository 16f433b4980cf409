namespace UserStream.Contracts;

/// <summary>
/// The top-level fields of a randomuser.me user (v1.4), as the API's <c>inc</c>/<c>exc</c> parameters name
/// them, and those the processor's validation requires. The ingestor refuses at startup an
/// <c>Ingest:RandomUser:Include</c>/<c>Exclude</c> that would drop a required one (every user would be
/// dead-lettered <c>missing_field</c>); the processor's validator reads the required ones by these names.
/// </summary>
public static class RandomUserFields
{
    public const string Gender = "gender";
    public const string Name = "name";
    public const string Location = "location";
    public const string Email = "email";
    public const string Login = "login";
    public const string Registered = "registered";
    public const string Dob = "dob";
    public const string Phone = "phone";
    public const string Cell = "cell";
    public const string Id = "id";
    public const string Picture = "picture";
    public const string Nat = "nat";

    /// <summary>Every field <c>inc</c>/<c>exc</c> accept, in the API's documented order.</summary>
    public static IReadOnlyList<string> All { get; } =
        [Gender, Name, Location, Email, Login, Registered, Dob, Phone, Cell, Id, Picture, Nat];

    /// <summary>The fields without which the processor rejects a user, each with why.</summary>
    public static IReadOnlyDictionary<string, string> Required { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        [Login] = "login.uuid is the record key",
        [Name] = "name.first and name.last are required",
        [Email] = "email is required",
        [Dob] = "dob.date is required",
        [Registered] = "registered.date is required",
    };
}
