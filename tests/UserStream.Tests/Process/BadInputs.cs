using System.Text.Json.Nodes;

namespace UserStream.Tests.Process;

/// <summary>
/// Every kind of bad users_created record the process stage must dead-letter, with the code it must
/// give. Shared by the validator's unit tests and the stage test (<see cref="BadInputStageTests"/>),
/// which runs a stage over all of them at once. Limits assumed: <see cref="MaxRecordBytes"/>,
/// <see cref="MaxFieldLength"/>, <see cref="MaxDepth"/>.
/// </summary>
internal static class BadInputs
{
    public const int MaxRecordBytes = 16 * 1024;
    public const int MaxFieldLength = 256;
    public const int MaxDepth = 8;

    public sealed record Case(string Name, string? Key, byte[]? Value, string Code);

    public static readonly IReadOnlyList<Case> All = Build();

    public static Case Get(string name) => All.Single(c => c.Name == name);

    public static TheoryData<string> Names()
    {
        var names = new TheoryData<string>();
        foreach (var c in All)
        {
            names.Add(c.Name);
        }

        return names;
    }

    private static List<Case> Build()
    {
        var cases = new List<Case>();

        void Text(string name, string json, string code, string? key = null) =>
            cases.Add(new Case(name, key ?? Guid.NewGuid().ToString("D"), Encoding.UTF8.GetBytes(json), code));

        void User(string name, Action<JsonObject> change, string code, Func<Guid, string?>? key = null)
        {
            var id = Guid.NewGuid();
            var user = RandomUserJson.Create(id);
            change(user);
            cases.Add(new Case(name, key is null ? id.ToString("D") : key(id), RandomUserJson.Bytes(user), code));
        }

        void Bytes(string name, Func<byte[], byte[]> change, string code)
        {
            var id = Guid.NewGuid();
            cases.Add(new Case(name, id.ToString("D"), change(RandomUserJson.Bytes(RandomUserJson.Create(id))), code));
        }

        // Envelope
        cases.Add(new Case("null value (tombstone)", Guid.NewGuid().ToString("D"), null, "empty"));
        cases.Add(new Case("zero bytes", Guid.NewGuid().ToString("D"), [], "empty"));
        User("larger than the record limit", u => u["padding"] = new string('x', MaxRecordBytes), "too_large");

        // Bytes and syntax
        Bytes("invalid UTF-8 inside a string", b => Replace(b, "Jennie"u8, [0x4A, 0xC3, 0x28, 0x6E]), "not_utf8");
        Bytes("Latin-1 encoded text", b => Replace(b, "Jennie"u8, [0x4A, 0xE9, 0x6E]), "not_utf8");
        Bytes("lone surrogate escaped in a string", b => Replace(b, "Jennie"u8, "\\ud800"u8), "not_utf8");
        Text("plain text", "hello, I am not JSON", "not_json");
        Bytes("truncated JSON", b => b[..(b.Length / 2)], "not_json");
        Text("JSON with a comment", """{"a":1 /* comment */}""", "not_json");
        Text("whitespace only", "   \n ", "not_json");
        Bytes("single quotes", b => Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(b).Replace('"', '\'')), "not_json");
        Text("a JSON array", """[{"login":{"uuid":"7a0eed16-9430-4d68-901f-c0d4c1c3bf00"}}]""", "not_object");
        Text("a JSON string", "\"7a0eed16-9430-4d68-901f-c0d4c1c3bf00\"", "not_object");
        Text("JSON null", "null", "not_object");
        Text("a JSON number", "42", "not_object");
        Bytes("garbage after the object", b => [.. b, .. "garbage"u8], "trailing_data");
        Bytes("two objects in one value", b => [.. b, .. b], "trailing_data");
        User("nesting too deep", u => u["extra"] = Nest(MaxDepth + 2), "too_deep");
        Bytes("duplicate top-level property", b => Replace(b, "\"phone\":"u8, "\"email\":\"evil@example.com\",\"phone\":"u8), "duplicate_property");
        Bytes("duplicate nested property login.uuid", b => Replace(b, "\"username\":"u8, "\"uuid\":\"00000000-0000-0000-0000-000000000001\",\"username\":"u8), "duplicate_property");

        // Identity
        User("no login", u => u.Remove("login"), "missing_field");
        User("login.uuid null", u => u["login"]!["uuid"] = null, "missing_field");
        User("login.uuid not a UUID", u => u["login"]!["uuid"] = "not-a-uuid", "invalid_id", _ => "not-a-uuid");
        User("login.uuid a number", u => u["login"]!["uuid"] = 12345, "wrong_type");
        User("key is another user's id", _ => { }, "key_mismatch", _ => Guid.NewGuid().ToString("D"));
        User("no key", _ => { }, "key_mismatch", _ => null);

        // Required fields and types
        User("no name", u => u.Remove("name"), "missing_field");
        User("name.first and name.last blank", u => u["name"] = new JsonObject { ["first"] = " ", ["last"] = "" }, "missing_field");
        User("email null", u => u["email"] = null, "missing_field");
        User("no dob", u => u.Remove("dob"), "missing_field");
        User("name.first a number", u => u["name"]!["first"] = 42, "wrong_type");
        User("location a string", u => u["location"] = "Billings, Michigan", "wrong_type");
        User("postcode a boolean", u => u["location"]!["postcode"] = true, "wrong_type");
        User("name an array", u => u["name"] = new JsonArray("Jennie", "Nichols"), "wrong_type");
        User("name.last longer than the field limit", u => u["name"]!["last"] = new string('n', MaxFieldLength + 1), "field_too_long");

        // Dates
        User("dob not a date", u => u["dob"]!["date"] = "yesterday", "invalid_date");
        User("dob on 30 February", u => u["dob"]!["date"] = "1990-02-30T00:00:00Z", "invalid_date");
        User("dob in the future", u => u["dob"]!["date"] = DateTimeOffset.UtcNow.AddYears(3).ToString("O"), "invalid_date");
        User("dob before 1900", u => u["dob"]!["date"] = "1850-06-01T00:00:00Z", "invalid_date");
        User("registered in the future", u => u["registered"]!["date"] = DateTimeOffset.UtcNow.AddDays(2).ToString("O"), "invalid_date");

        // Values
        User("email without a domain", u => u["email"] = "jennie.nichols@", "invalid_value");
        User("latitude not a number", u => u["location"]!["coordinates"]!["latitude"] = "north", "invalid_value");
        User("latitude out of range", u => u["location"]!["coordinates"]!["latitude"] = "123.5", "invalid_value");
        User("nat not a country code", u => u["nat"] = "Britain", "invalid_value");
        User("NUL character in a name", u => u["name"]!["first"] = "Jen\0nie", "invalid_value");
        return cases;
    }

    private static JsonNode Nest(int depth)
    {
        JsonNode node = new JsonObject { ["leaf"] = 1 };
        for (var i = 1; i < depth; i++)
        {
            node = i % 2 == 0 ? new JsonObject { ["level"] = node } : new JsonArray(node);
        }

        return node;
    }

    private static byte[] Replace(byte[] source, ReadOnlySpan<byte> find, ReadOnlySpan<byte> replacement)
    {
        var at = source.AsSpan().IndexOf(find);
        if (at < 0)
        {
            throw new InvalidOperationException($"'{Encoding.UTF8.GetString(find)}' not in the sample");
        }

        return [.. source.AsSpan(0, at), .. replacement, .. source.AsSpan(at + find.Length)];
    }
}
