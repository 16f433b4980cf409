using UserStream.Ingest.Sources;
using UserStream.Ingest.Sources.Generator;

namespace UserStream.Tests.Ingest;

/// <summary>The offline generator gives randomuser-shaped users of the API's variety, deterministically.</summary>
public sealed class UserGeneratorTests
{
    private static readonly string[] TopLevelFields =
        ["gender", "name", "location", "email", "login", "dob", "registered", "phone", "cell", "id", "picture", "nat"];

    [Fact]
    public void The_same_seed_and_page_give_the_same_bytes_and_other_pages_give_other_users()
    {
        var generator = UserGenerator.Create();

        var first = generator.Generate(new PageRequest("demo", 3, 200), TestContext.Current.CancellationToken);
        var again = UserGenerator.Create().Generate(new PageRequest("demo", 3, 200), TestContext.Current.CancellationToken);
        var nextPage = generator.Generate(new PageRequest("demo", 4, 200), TestContext.Current.CancellationToken);
        var otherSeed = generator.Generate(new PageRequest("demo2", 3, 200), TestContext.Current.CancellationToken);

        Assert.Equal(first.Select(u => u.Json), again.Select(u => u.Json));
        Assert.Empty(first.Select(u => u.Key).Intersect(nextPage.Select(u => u.Key)));
        Assert.Empty(first.Select(u => u.Key).Intersect(otherSeed.Select(u => u.Key)));
    }

    [Fact]
    public void Users_have_randomuser_shape_and_variety_of_nationalities_scripts_postcodes_and_ids()
    {
        var users = UserGenerator.Create().Generate(new PageRequest("variety", 1, 2_000), TestContext.Current.CancellationToken);

        var documents = users.Select(u => JsonDocument.Parse(u.Json)).ToList();
        var roots = documents.Select(d => d.RootElement).ToList();
        Assert.All(roots, user => Assert.Equal(TopLevelFields, user.EnumerateObject().Select(p => p.Name)));
        Assert.All(users.Zip(roots), pair =>
        {
            var uuid = pair.Second.GetProperty("login").GetProperty("uuid").GetString();
            Assert.Equal(pair.First.Key, uuid);
            Assert.Matches("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", uuid);
            Assert.EndsWith("@example.com", pair.Second.GetProperty("email").GetString(), StringComparison.Ordinal);
            Assert.Matches(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$", pair.Second.GetProperty("dob").GetProperty("date").GetString());
        });
        Assert.Equal(users.Count, users.Select(u => u.Key).Distinct().Count());

        Assert.Equal(Nationalities.Codes.Order(), roots.Select(u => u.GetProperty("nat").GetString()!).Distinct().Order());
        var names = roots.Select(u => u.GetProperty("name").GetProperty("first").GetString() + " " + u.GetProperty("name").GetProperty("last").GetString()).ToList();
        Assert.Contains(names, n => n.Any(c => c is >= '\u0400' and <= '\u04FF'));   // Cyrillic
        Assert.Contains(names, n => n.Any(c => c is >= '\u0600' and <= '\u06FF'));   // Arabic script (Persian)
        Assert.Contains(names, n => n.Any(c => c is >= '\u4E00' and <= '\u9FFF'));   // CJK
        Assert.Contains(names, n => n.Any(c => c is >= '\u00C0' and <= '\u017F'));   // Latin with accents

        var postcodes = roots.Select(u => u.GetProperty("location").GetProperty("postcode").ValueKind).ToHashSet();
        Assert.Equal([JsonValueKind.String, JsonValueKind.Number], postcodes.Order());
        var idValues = roots.Select(u => u.GetProperty("id").GetProperty("value").ValueKind).ToHashSet();
        Assert.Equal([JsonValueKind.String, JsonValueKind.Null], idValues.Order());

        documents.ForEach(d => d.Dispose());
    }

    [Fact]
    public void Only_the_configured_nationalities_are_generated()
    {
        var users = UserGenerator.Create(["UA", "cn"]).Generate(new PageRequest("nat", 1, 300), TestContext.Current.CancellationToken);

        var nationalities = users.Select(u => JsonDocument.Parse(u.Json).RootElement.GetProperty("nat").GetString()).Distinct().Order();
        Assert.Equal(["CN", "UA"], nationalities);
    }
}
