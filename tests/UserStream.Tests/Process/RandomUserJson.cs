using System.Text.Encodings.Web;
using System.Text.Json.Nodes;

namespace UserStream.Tests.Process;

/// <summary>Users in randomuser.me's API shape (v1.4), as the ingestor produces them to users_created.</summary>
internal static class RandomUserJson
{
    private static readonly JsonSerializerOptions Raw = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>A complete British user (postcode as a string), the shape of randomuser's documentation example.</summary>
    public static JsonObject Create(Guid id) => new()
    {
        ["gender"] = "female",
        ["name"] = new JsonObject { ["title"] = "Miss", ["first"] = "Jennie", ["last"] = "Nichols" },
        ["location"] = new JsonObject
        {
            ["street"] = new JsonObject { ["number"] = 8929, ["name"] = "Valwood Pkwy" },
            ["city"] = "Billings",
            ["state"] = "Michigan",
            ["country"] = "United Kingdom",
            ["postcode"] = "W1D 3QF",
            ["coordinates"] = new JsonObject { ["latitude"] = "-69.8246", ["longitude"] = "134.8719" },
            ["timezone"] = new JsonObject { ["offset"] = "+9:30", ["description"] = "Adelaide, Darwin" },
        },
        ["email"] = "jennie.nichols@Example.com",
        ["login"] = new JsonObject
        {
            ["uuid"] = id.ToString("D"),
            ["username"] = "yellowpeacock117",
            ["password"] = "addison",
            ["salt"] = "sld1yGtd",
            ["md5"] = "ab54ac4c0be9480ae8fa5e9e2a5196a3",
            ["sha1"] = "edcf2ce613cbdea349133c52dc2f3b83168dc51b",
            ["sha256"] = "48df5229235ada28389b91e60a935e4f9b73eb4bdb855ef9258a1751f10bdc5d",
        },
        ["dob"] = new JsonObject { ["date"] = "1992-03-08T15:13:16.688Z", ["age"] = 30 },
        ["registered"] = new JsonObject { ["date"] = "2007-07-09T05:51:59.390Z", ["age"] = 14 },
        ["phone"] = "(272) 790-0888",
        ["cell"] = "(489) 330-2385",
        ["id"] = new JsonObject { ["name"] = "SSN", ["value"] = "405-88-3636" },
        ["picture"] = new JsonObject
        {
            ["large"] = "https://randomuser.me/api/portraits/women/75.jpg",
            ["medium"] = "https://randomuser.me/api/portraits/med/women/75.jpg",
            ["thumbnail"] = "https://randomuser.me/api/portraits/thumb/women/75.jpg",
        },
        ["nat"] = "GB",
    };

    /// <summary>A Ukrainian user: Cyrillic names and address, numeric postcode, id.value null.</summary>
    public static JsonObject Ukrainian(Guid id) => Abroad(id, "UA", ("Mrs", "Ярослава", "Бондаренко"), ("Київ", "Київська", "Ukraine", 69217), u =>
    {
        u["location"]!["street"] = new JsonObject { ["number"] = 5121, ["name"] = "Хрещатик" };
        u["id"] = new JsonObject { ["name"] = "", ["value"] = null };
        u["phone"] = "(097) Y66-3052";
    });

    /// <summary>An Iranian user: Persian (Arabic script) names and address, numeric postcode.</summary>
    public static JsonObject Iranian(Guid id) => Abroad(id, "IR", ("Mr", "آرمین", "کریمی"), ("تهران", "تهران", "Iran", 48217), u =>
        u["location"]!["street"] = new JsonObject { ["number"] = 7614, ["name"] = "میدان امام خمینی" });

    /// <summary>A user with a Chinese name and a string postcode with digits only.</summary>
    public static JsonObject Chinese(Guid id) => Abroad(id, "cn", ("Ms", "小明", "王"), ("北京", "北京市", "China", "100000"));

    /// <summary>
    /// <see cref="Create"/>'s user with the nationality <paramref name="nat"/>, another name, and another city, state,
    /// country and postcode; <paramref name="more"/> changes what else differs.
    /// </summary>
    private static JsonObject Abroad(
        Guid id,
        string nat,
        (string Title, string First, string Last) name,
        (string City, string State, string Country, JsonNode Postcode) place,
        Action<JsonObject>? more = null) => With(Create(id), u =>
    {
        u["name"] = new JsonObject { ["title"] = name.Title, ["first"] = name.First, ["last"] = name.Last };
        u["location"]!["city"] = place.City;
        u["location"]!["state"] = place.State;
        u["location"]!["country"] = place.Country;
        u["location"]!["postcode"] = place.Postcode;
        u["nat"] = nat;
        more?.Invoke(u);
    });

    public static JsonObject With(JsonObject user, Action<JsonObject> change)
    {
        change(user);
        return user;
    }

    public static byte[] Bytes(JsonNode user) => Encoding.UTF8.GetBytes(user.ToJsonString(Raw));

    /// <summary>A users_created record as the ingestor writes it: key = login.uuid, pipeline headers.</summary>
    public static Message<string, byte[]> Record(Guid id, JsonObject? user = null, string runId = "run-1", DateTimeOffset? ingestedAt = null) => new()
    {
        Key = id.ToString("D"),
        Value = Bytes(user ?? Create(id)),
        Headers = new Headers()
            .SetString(PipelineHeaders.RunId, runId)
            .SetString(PipelineHeaders.Source, "generator")
            .SetTimestamp(PipelineHeaders.IngestedAt, ingestedAt ?? DateTimeOffset.UtcNow),
    };
}
