using UserStream.Process.Enrichment;
using UserStream.Process.Validation;

namespace UserStream.Tests.Process;

public sealed class UserEnricherTests
{
    private static readonly DateTimeOffset ProcessedAt = new(2026, 3, 8, 10, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset IngestedAt = new(2026, 3, 8, 9, 59, 58, TimeSpan.Zero);

    [Fact]
    public void The_originals_columns_are_filled_as_the_Spark_job_filled_them()
    {
        var id = Guid.NewGuid();

        var user = Enrich(RandomUserJson.Create(id));

        Assert.Equal(id, user.Id);
        Assert.Equal(("Jennie", "Nichols", "female"), (user.FirstName, user.LastName, user.Gender));
        Assert.Equal("8929 Valwood Pkwy, Billings, Michigan, United Kingdom", user.Address);
        Assert.Equal(("W1D 3QF", "jennie.nichols@Example.com", "yellowpeacock117"), (user.PostCode, user.Email, user.Username));
        Assert.Equal(new DateTimeOffset(1992, 3, 8, 15, 13, 16, 688, TimeSpan.Zero), user.Dob);
        Assert.Equal(new DateTimeOffset(2007, 7, 9, 5, 51, 59, 390, TimeSpan.Zero), user.RegisteredDate);
        Assert.Equal("(272) 790-0888", user.Phone);
        Assert.Equal("https://randomuser.me/api/portraits/med/women/75.jpg", user.Picture);
    }

    [Fact]
    public void The_enrichment_is_derived_from_the_user_and_its_record()
    {
        var user = Enrich(RandomUserJson.Create(Guid.NewGuid()), runId: "run-42");

        Assert.Equal("Jennie Nichols", user.FullName);
        Assert.Equal(34, user.Age);
        Assert.Equal("25-34", user.AgeBand);
        Assert.Equal("GB", user.Nationality);
        Assert.Equal("example.com", user.EmailDomain);
        Assert.Equal("+09:30", user.TimezoneOffset);
        Assert.Equal((-69.8246, 134.8719), (user.Latitude!.Value, user.Longitude!.Value));
        Assert.Equal("2727900888", user.PhoneDigits);
        Assert.Equal(IngestedAt, user.IngestedAt);
        Assert.Equal(ProcessedAt, user.ProcessedAt);
        Assert.Equal("run-42", user.RunId);
    }

    [Theory]
    [InlineData("2026-03-08T15:13:16Z", "1992-03-08T15:13:16Z", 34)]
    [InlineData("2026-03-07T23:59:59Z", "1992-03-08T00:00:00Z", 33)]
    [InlineData("2026-02-28T00:00:00Z", "2008-02-29T00:00:00Z", 17)]
    [InlineData("2026-03-01T00:00:00Z", "2008-02-29T00:00:00Z", 18)]
    public void Age_is_whole_years_at_processing_time(string at, string dob, int age) =>
        Assert.Equal(age, UserEnricher.AgeAt(DateTimeOffset.Parse(dob, System.Globalization.CultureInfo.InvariantCulture), DateTimeOffset.Parse(at, System.Globalization.CultureInfo.InvariantCulture)));

    [Theory]
    [InlineData("+9:30", "+09:30")]
    [InlineData("-10:00", "-10:00")]
    [InlineData("0:00", "+00:00")]
    [InlineData("-0:00", "+00:00")]
    [InlineData("+5:45", "+05:45")]
    [InlineData("-3:30", "-03:30")]
    [InlineData("", null)]
    [InlineData("Adelaide", null)]
    [InlineData("+15:00", null)]
    [InlineData("+5:60", null)]
    [InlineData("+٥:٠٠", null)]
    public void Timezone_offsets_are_normalised_to_plus_or_minus_hh_mm(string offset, string? expected) =>
        Assert.Equal(expected, UserEnricher.NormaliseOffset(offset));

    [Fact]
    public void A_user_with_a_numeric_postcode_Cyrillic_names_and_no_id_value_round_trips_through_the_wire_form()
    {
        var id = Guid.NewGuid();

        var user = Enrich(RandomUserJson.Ukrainian(id));
        var wire = EnrichedUserJson.Deserialize(EnrichedUserJson.Serialize(user));

        Assert.Equal(user, wire);
        Assert.Equal("69217", wire.PostCode);
        Assert.Equal("Ярослава Бондаренко", wire.FullName);
        Assert.Equal("5121 Хрещатик, Київ, Київська, Ukraine", wire.Address);
        Assert.Equal("097663052", wire.PhoneDigits);
        Assert.Equal("UA", wire.Nationality);
    }

    [Fact]
    public void Parts_of_the_address_that_are_not_given_leave_no_stray_separators()
    {
        var id = Guid.NewGuid();
        var json = RandomUserJson.With(RandomUserJson.Chinese(id), u =>
        {
            u["location"]!["street"] = null;
            u["location"]!["state"] = "";
        });

        Assert.Equal("北京, China", Enrich(json).Address);
        Assert.Equal("小明 王", Enrich(json).FullName);
    }

    [Fact]
    public void Without_an_ingested_at_header_the_message_timestamp_is_the_ingestion_time()
    {
        var timestamp = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);
        var withHeader = new Headers().SetTimestamp(PipelineHeaders.IngestedAt, IngestedAt).SetString(PipelineHeaders.RunId, "r1");

        Assert.Equal(IngestedAt, RecordContext.From(withHeader, new Timestamp(timestamp), ProcessedAt).IngestedAt);
        Assert.Equal(timestamp, RecordContext.From(new Headers(), new Timestamp(timestamp), ProcessedAt).IngestedAt);
        Assert.Equal(ProcessedAt, RecordContext.From(null, Timestamp.Default, ProcessedAt).IngestedAt);
        Assert.Equal("r1", RecordContext.From(withHeader, Timestamp.Default, ProcessedAt).RunId);
        Assert.Null(RecordContext.From(new Headers(), Timestamp.Default, ProcessedAt).RunId);
    }

    private static EnrichedUser Enrich(System.Text.Json.Nodes.JsonObject json, string? runId = null)
    {
        var id = Guid.Parse(json["login"]!["uuid"]!.GetValue<string>());
        var outcome = new UserValidator(new ValidationOptions()).Validate(id.ToString(), Encoding.UTF8.GetBytes(json.ToJsonString()), ProcessedAt);
        Assert.True(outcome.IsValid, outcome.Rejection?.Reason);
        return UserEnricher.Enrich(outcome.User, new RecordContext(IngestedAt, runId, null), ProcessedAt);
    }
}
