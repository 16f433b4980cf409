using Bogus;

namespace UserStream.Ingest.Sources.Generator;

/// <summary>How a nationality writes its postcode: randomuser sends most as JSON numbers, some as strings.</summary>
internal enum PostcodeStyle
{
    /// <summary>A JSON number of the given digit count.</summary>
    Number,

    /// <summary>A JSON string in the locale's format (e.g. "GN3 3GN", "2253 JG", "0158").</summary>
    Text,
}

/// <summary>
/// One nationality the generator produces: the Bogus locale for names and addresses (its script: Latin
/// with accents, Cyrillic, Persian/Arabic, Chinese…), the country, the national id's name and format
/// (null value where randomuser sends none) and the postcode style.
/// </summary>
internal sealed record Nationality(
    string Code,
    string Locale,
    string Country,
    string IdName,
    string? IdFormat,
    PostcodeStyle Postcode,
    int PostcodeDigits = 5,
    bool FrenchTitles = false);

/// <summary>The nationalities the generator knows: randomuser 1.4's 21, plus CN (beyond the API, for CJK text).</summary>
internal static class Nationalities
{
    // IdFormat: Bogus Randomizer.Replace patterns ('#' digit, '?' letter); null → "value": null.
    public static readonly IReadOnlyList<Nationality> All =
    [
        new("AU", "en_AU", "Australia", "TFN", "#########", PostcodeStyle.Number, 4),
        new("BR", "pt_BR", "Brazil", "CPF", "###.###.###-##", PostcodeStyle.Number),
        new("CA", "en_CA", "Canada", "SIN", "#########", PostcodeStyle.Text),
        new("CH", "fr_CH", "Switzerland", "AVS", "756.####.####.##", PostcodeStyle.Number, 4, FrenchTitles: true),
        new("DE", "de", "Germany", "SVNR", "## ###### ? ###", PostcodeStyle.Number),
        new("DK", "nb_NO", "Denmark", "CPR", "######-####", PostcodeStyle.Number, 4),
        new("ES", "es", "Spain", "DNI", "########-?", PostcodeStyle.Number),
        new("FI", "fi", "Finland", "HETU", "######-###?", PostcodeStyle.Number),
        new("FR", "fr", "France", "INSEE", "# ## ## ## ### ### ##", PostcodeStyle.Number, FrenchTitles: true),
        new("GB", "en_GB", "United Kingdom", "NINO", "?? ## ## ## ?", PostcodeStyle.Text),
        new("IE", "en_IE", "Ireland", "PPS", "#######?", PostcodeStyle.Number),
        new("IN", "en_IND", "India", "UIDAI", "############", PostcodeStyle.Number, 6),
        new("IR", "fa", "Iran", "", null, PostcodeStyle.Number),
        new("MX", "es_MX", "Mexico", "NSS", "## ## ## #### #", PostcodeStyle.Number),
        new("NL", "nl", "Netherlands", "BSN", "########", PostcodeStyle.Text),
        new("NO", "nb_NO", "Norway", "FN", "###########", PostcodeStyle.Text),
        new("NZ", "en_AU", "New Zealand", "", null, PostcodeStyle.Number, 4),
        new("RS", "hr", "Serbia", "SID", "#########", PostcodeStyle.Number),
        new("TR", "tr", "Turkey", "", null, PostcodeStyle.Number),
        new("UA", "uk", "Ukraine", "", null, PostcodeStyle.Number),
        new("US", "en_US", "United States", "SSN", "###-##-####", PostcodeStyle.Number),
        new("CN", "zh_CN", "China", "", null, PostcodeStyle.Number, 6),
    ];

    private static readonly Dictionary<string, Nationality> ByCode = All.ToDictionary(n => n.Code, StringComparer.OrdinalIgnoreCase);

    public static IEnumerable<string> Codes => All.Select(n => n.Code);

    public static bool IsKnown(string code) => ByCode.ContainsKey(code);

    public static IReadOnlyList<Nationality> Select(IReadOnlyList<string> codes) =>
        codes.Count == 0 ? All : [.. codes.Select(c => ByCode[c])];

    /// <summary>The id value for <paramref name="nationality"/>, or null where randomuser sends none.</summary>
    public static string? IdValue(this Nationality nationality, Randomizer random) =>
        nationality.IdFormat is null ? null : random.Replace(nationality.IdFormat);
}
