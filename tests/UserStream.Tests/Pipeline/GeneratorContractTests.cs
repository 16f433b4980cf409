using UserStream.Ingest.Sources;
using UserStream.Ingest.Sources.Generator;
using UserStream.Process.Validation;

namespace UserStream.Tests.Pipeline;

/// <summary>The offline source and the processor agree: every user the generator makes is accepted.</summary>
public sealed class GeneratorContractTests
{
    [Fact]
    public void Every_generated_user_passes_the_processors_validation()
    {
        var generator = UserGenerator.Create();
        var validator = new UserValidator(new ValidationOptions());
        var now = DateTimeOffset.UtcNow;
        var rejected = new List<string>();
        for (var page = 1; page <= 20; page++)
        {
            foreach (var user in generator.Generate(new PageRequest("contract", page, 5_000), TestContext.Current.CancellationToken))
            {
                var outcome = validator.Validate(user.Key, user.Json, now);
                if (!outcome.IsValid)
                {
                    rejected.Add($"{outcome.Rejection!.Code}: {outcome.Rejection.Reason} — {System.Text.Encoding.UTF8.GetString(user.Json)}");
                }
            }
        }

        Assert.True(rejected.Count == 0, $"{rejected.Count} of 100,000 generated users rejected, e.g.:\n{string.Join("\n", rejected.Take(5))}");
    }

    [Theory]
    [InlineData("Ã\u0096mer", "Ömer")]
    [InlineData("Ömer", "Ömer")]
    [InlineData("李娜", "李娜")]
    public void Names_that_bogus_double_encoded_are_decoded(string generated, string expected) =>
        Assert.Equal(expected, UserGenerator.RepairMojibake(generated));
}
