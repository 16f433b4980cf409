using System.Text.Json.Nodes;
using UserStream.Process.Validation;

namespace UserStream.Tests.Process;

public sealed class UserValidatorTests
{
    private static readonly DateTimeOffset Now = new(2026, 6, 15, 12, 0, 0, TimeSpan.Zero);

    private readonly UserValidator _validator = new(new ValidationOptions
    {
        MaxRecordBytes = BadInputs.MaxRecordBytes,
        MaxFieldLength = BadInputs.MaxFieldLength,
        MaxDepth = BadInputs.MaxDepth,
    });

    [Fact]
    public void A_complete_randomuser_user_is_accepted_with_its_fields_typed()
    {
        var id = Guid.NewGuid();

        var user = Accept(id, RandomUserJson.Create(id));

        Assert.Equal(id, user.Id);
        Assert.Equal(("Jennie", "Nichols", "female"), (user.FirstName, user.LastName, user.Gender));
        Assert.Equal(("8929", "Valwood Pkwy", "Billings", "Michigan", "United Kingdom"), (user.StreetNumber, user.StreetName, user.City, user.State, user.Country));
        Assert.Equal("W1D 3QF", user.PostCode);
        Assert.Equal((-69.8246, 134.8719), (user.Latitude!.Value, user.Longitude!.Value));
        Assert.Equal("+9:30", user.TimezoneOffset);
        Assert.Equal(new DateTimeOffset(1992, 3, 8, 15, 13, 16, 688, TimeSpan.Zero), user.Dob);
        Assert.Equal(new DateTimeOffset(2007, 7, 9, 5, 51, 59, 390, TimeSpan.Zero), user.Registered);
        Assert.Equal(("yellowpeacock117", "(272) 790-0888", "GB"), (user.Username, user.Phone, user.Nationality));
        Assert.Equal("https://randomuser.me/api/portraits/med/women/75.jpg", user.Picture);
    }

    [Fact]
    public void A_numeric_postcode_is_kept_as_the_text_of_the_number()
    {
        var id = Guid.NewGuid();

        var user = Accept(id, RandomUserJson.Ukrainian(id));

        Assert.Equal("69217", user.PostCode);
        Assert.Equal("5121", user.StreetNumber);
    }

    [Fact]
    public void A_string_postcode_of_digits_and_a_string_street_number_are_kept_as_sent()
    {
        var id = Guid.NewGuid();
        var json = RandomUserJson.With(RandomUserJson.Chinese(id), u => u["location"]!["street"]!["number"] = "12b");

        var user = Accept(id, json);

        Assert.Equal("100000", user.PostCode);
        Assert.Equal("12b", user.StreetNumber);
    }

    [Fact]
    public void Names_and_addresses_in_Cyrillic_Arabic_and_Chinese_scripts_come_through_unchanged()
    {
        var ukrainian = Guid.NewGuid();
        var iranian = Guid.NewGuid();
        var chinese = Guid.NewGuid();

        var cyrillic = Accept(ukrainian, RandomUserJson.Ukrainian(ukrainian));
        var arabic = Accept(iranian, RandomUserJson.Iranian(iranian));
        var han = Accept(chinese, RandomUserJson.Chinese(chinese));

        Assert.Equal(("Ярослава", "Бондаренко", "Хрещатик", "Київ"), (cyrillic.FirstName, cyrillic.LastName, cyrillic.StreetName, cyrillic.City));
        Assert.Equal(("آرمین", "کریمی", "میدان امام خمینی", "تهران"), (arabic.FirstName, arabic.LastName, arabic.StreetName, arabic.City));
        Assert.Equal(("小明", "王", "北京"), (han.FirstName, han.LastName, han.City));
        Assert.Equal("CN", han.Nationality);
    }

    [Fact]
    public void Optional_fields_that_are_null_empty_or_absent_are_accepted_as_empty()
    {
        var id = Guid.NewGuid();
        var json = RandomUserJson.With(RandomUserJson.Create(id), u =>
        {
            u["id"] = new JsonObject { ["name"] = "", ["value"] = null };
            u["gender"] = "";
            u["location"] = null;
            u.Remove("picture");
            u.Remove("phone");
            u["nat"] = null;
            u["login"]!["username"] = null;
        });

        var user = Accept(id, json);

        Assert.Equal("", user.Gender);
        Assert.Equal(("", "", "", "", "", ""), (user.StreetNumber, user.StreetName, user.City, user.State, user.Country, user.PostCode));
        Assert.Null(user.Latitude);
        Assert.Equal(("", "", "", "", ""), (user.Picture, user.Phone, user.Nationality, user.Username, user.TimezoneOffset));
    }

    [Fact]
    public void Coordinates_may_be_numbers_and_an_empty_coordinate_is_unknown()
    {
        var id = Guid.NewGuid();
        var json = RandomUserJson.With(RandomUserJson.Create(id), u =>
            u["location"]!["coordinates"] = new JsonObject { ["latitude"] = 51.5072, ["longitude"] = "" });

        var user = Accept(id, json);

        Assert.Equal(51.5072, user.Latitude);
        Assert.Null(user.Longitude);
    }

    [Fact]
    public void One_name_part_may_be_blank_and_unknown_fields_are_ignored()
    {
        var id = Guid.NewGuid();
        var json = RandomUserJson.With(RandomUserJson.Create(id), u =>
        {
            u["name"]!["last"] = "";
            u["info"] = new JsonObject { ["seed"] = "abc", ["version"] = "1.4" };
        });

        Assert.Equal(("Jennie", ""), (Accept(id, json).FirstName, Accept(id, json).LastName));
    }

    [Fact]
    public void The_key_is_compared_as_a_UUID_so_its_letter_case_does_not_matter()
    {
        var id = Guid.NewGuid();

        var outcome = _validator.Validate(id.ToString("D").ToUpperInvariant(), RandomUserJson.Bytes(RandomUserJson.Create(id)), Now);

        Assert.True(outcome.IsValid, outcome.Rejection?.Reason);
    }

    [Fact]
    public void A_UTF8_byte_order_mark_is_tolerated()
    {
        var id = Guid.NewGuid();

        var outcome = _validator.Validate(id.ToString("D"), [0xEF, 0xBB, 0xBF, .. RandomUserJson.Bytes(RandomUserJson.Create(id))], Now);

        Assert.True(outcome.IsValid, outcome.Rejection?.Reason);
    }

    [Fact]
    public void A_date_of_birth_today_is_accepted_and_one_tomorrow_is_not()
    {
        var id = Guid.NewGuid();
        var today = RandomUserJson.With(RandomUserJson.Create(id), u => u["dob"]!["date"] = Now.AddMinutes(-1).ToString("O"));
        var tomorrow = RandomUserJson.With(RandomUserJson.Create(id), u => u["dob"]!["date"] = Now.AddDays(1).ToString("O"));

        Assert.True(_validator.Validate(id.ToString(), RandomUserJson.Bytes(today), Now).IsValid);
        Assert.Equal("invalid_date", _validator.Validate(id.ToString(), RandomUserJson.Bytes(tomorrow), Now).Rejection?.Code);
    }

    /// <summary>
    /// Dates in randomuser's own form (<c>yyyy-MM-ddTHH:mm:ss.fffZ</c>, read by a fast path): one that exists reads to the
    /// millisecond in UTC, leap days included; one that does not is an invalid date.
    /// </summary>
    [Theory]
    [InlineData("2000-02-29T23:59:59.999Z", true)]
    [InlineData("1900-01-01T00:00:00.000Z", true)]
    [InlineData("2024-12-31T07:08:09.010Z", true)]
    [InlineData("1990-02-30T00:00:00.000Z", false)]
    [InlineData("1991-02-29T12:00:00.000Z", false)]
    [InlineData("1990-04-31T00:00:00.000Z", false)]
    [InlineData("1990-01-01T24:00:00.000Z", false)]
    [InlineData("1990-01-01T00:60:00.000Z", false)]
    [InlineData("1990-13-01T00:00:00.000Z", false)]
    [InlineData("1990-00-01T00:00:00.000Z", false)]
    public void A_date_in_randomuser_s_form_reads_to_the_millisecond_or_is_invalid_when_it_does_not_exist(string date, bool exists)
    {
        var id = Guid.NewGuid();
        var user = RandomUserJson.With(RandomUserJson.Create(id), u => u["dob"]!["date"] = date);

        var outcome = _validator.Validate(id.ToString(), RandomUserJson.Bytes(user), Now);

        if (exists)
        {
            Assert.True(outcome.IsValid, outcome.Rejection?.Reason);
            Assert.Equal(DateTimeOffset.Parse(date, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind), outcome.User.Dob);
            Assert.Equal(TimeSpan.Zero, outcome.User.Dob.Offset);
        }
        else
        {
            Assert.Equal("invalid_date", outcome.Rejection?.Code);
        }
    }

    [Theory]
    [MemberData(nameof(BadInputNames))]
    public void A_bad_record_is_rejected_with_its_code_and_a_reason(string name)
    {
        var bad = BadInputs.Get(name);

        var outcome = _validator.Validate(bad.Key, bad.Value, DateTimeOffset.UtcNow);

        Assert.False(outcome.IsValid);
        Assert.Equal(bad.Code, outcome.Rejection.Code);
        Assert.False(string.IsNullOrWhiteSpace(outcome.Rejection.Reason));
    }

    public static TheoryData<string> BadInputNames() => BadInputs.Names();

    public static TheoryData<string> RandomUserFieldNames() => [.. RandomUserFields.All];

    /// <summary>The ingestor refuses at startup an inc/exc that drops a field of <see cref="RandomUserFields.Required"/>:
    /// that list must be exactly the top-level fields without which validation rejects a user.</summary>
    [Theory]
    [MemberData(nameof(RandomUserFieldNames))]
    public void A_user_without_a_top_level_field_is_rejected_exactly_when_the_contracts_list_it_as_required(string field)
    {
        var id = Guid.NewGuid();
        var user = RandomUserJson.Create(id);
        Assert.True(user.Remove(field), $"the test user has no '{field}'");

        var outcome = _validator.Validate(id.ToString(), RandomUserJson.Bytes(user), Now);

        if (RandomUserFields.Required.ContainsKey(field))
        {
            Assert.False(outcome.IsValid);
            Assert.Equal(DeadLetterCodes.MissingField, outcome.Rejection.Code);
        }
        else
        {
            Assert.True(outcome.IsValid, outcome.IsValid ? "" : outcome.Rejection.Reason);
        }
    }

    [Fact]
    public void Random_bytes_and_mangled_users_never_make_validation_throw_or_fail_unexpectedly()
    {
        var random = new Random(20_260_615);
        var id = Guid.NewGuid();
        var valid = RandomUserJson.Bytes(RandomUserJson.Ukrainian(id));
        var codes = new Dictionary<string, int>();
        for (var i = 0; i < 20_000; i++)
        {
            byte[] value;
            switch (i % 4)
            {
                case 0:
                    value = new byte[random.Next(0, 64)];
                    random.NextBytes(value);
                    break;
                case 1:
                    value = (byte[])valid.Clone();
                    for (var flips = random.Next(1, 4); flips > 0; flips--)
                    {
                        value[random.Next(value.Length)] = (byte)random.Next(256);
                    }

                    break;
                case 2:
                    value = valid[..random.Next(valid.Length)];
                    break;
                default:
                    // Structural characters spliced in at random places.
                    var splice = "{}[]\",:\\ 0en-"u8.ToArray();
                    var at = random.Next(valid.Length);
                    value = [.. valid.AsSpan(0, at), splice[random.Next(splice.Length)], .. valid.AsSpan(at)];
                    break;
            }

            var outcome = _validator.Validate(id.ToString(), value, Now);

            // A rejection always carries one of the documented codes; "processing_failed" would mean the
            // validator itself broke (it catches that rather than crash the stage).
            if (!outcome.IsValid)
            {
                Assert.Contains(outcome.Rejection.Code, DeadLetterCodes.Process);
                Assert.NotEqual(DeadLetterCodes.ProcessingFailed, outcome.Rejection.Code);
                codes[outcome.Rejection.Code] = codes.GetValueOrDefault(outcome.Rejection.Code) + 1;
            }
        }

        // The fuzzing reached several kinds of rejection, not just one.
        Assert.True(codes.Count >= 4, string.Join(", ", codes.Select(c => $"{c.Key}={c.Value}")));
    }

    private RawUser Accept(Guid id, JsonObject json)
    {
        var outcome = _validator.Validate(id.ToString("D"), Encoding.UTF8.GetBytes(json.ToJsonString()), Now);
        Assert.True(outcome.IsValid, outcome.Rejection?.Reason);
        return outcome.User;
    }
}
