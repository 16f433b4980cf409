using System.Collections.Concurrent;
using Bogus;

namespace UserStream.Ingest.Sources.Generator;

/// <summary>
/// Per locale, a fixed pool of street names, cities, states, postcodes and phone numbers, made once from
/// a fixed seed. Bogus builds these from templates, which is most of a user's cost; drawing from pools
/// keeps the variety (1,024 of each per locale) and the determinism at a fraction of the cost.
/// </summary>
internal sealed class LocalePools
{
    private const int Size = 1_024;
    private static readonly ConcurrentDictionary<string, Lazy<LocalePools>> Pools = new(StringComparer.Ordinal);

    private LocalePools(string locale)
    {
        var faker = new Faker(locale) { Random = new Randomizer((int)(UserGenerator.StableHash(locale) & 0x7FFFFFFF)) };
        Streets = Fill(() => faker.Address.StreetName());
        Cities = Fill(() => faker.Address.City());
        States = Fill(() => faker.Address.State() is { Length: > 0 } state ? state : faker.Address.City());
        Postcodes = Fill(() => faker.Address.ZipCode());
        Phones = Fill(() => faker.Phone.PhoneNumber());
    }

    public string[] Streets { get; }
    public string[] Cities { get; }
    public string[] States { get; }
    public string[] Postcodes { get; }
    public string[] Phones { get; }

    public static LocalePools For(string locale) =>
        Pools.GetOrAdd(locale, l => new Lazy<LocalePools>(() => new LocalePools(l))).Value;

    private static string[] Fill(Func<string> next)
    {
        var values = new string[Size];
        for (var i = 0; i < Size; i++)
        {
            values[i] = next();
        }

        return values;
    }
}
