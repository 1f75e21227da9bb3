using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using RecApp.Recommendations.Model;

namespace RecApp.Tests.Engine;

/// <summary>The seed's <c>MAX_SIMILAR_USERS</c> environment name next to the .NET key.</summary>
public sealed class RecommendationOptionsTests
{
    private static RecommendationOptions Resolve(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        using var services = new ServiceCollection()
            .AddSingleton<IConfiguration>(configuration)
            .AddRecommendationOptions()
            .BuildServiceProvider();
        return services.GetRequiredService<IOptions<RecommendationOptions>>().Value;
    }

    [Theory]
    [InlineData("12", 12)]
    [InlineData(" 12 # neighbours per user", 12)]
    public void The_seed_name_applies_with_a_trailing_comment(string raw, int expected)
    {
        Assert.Equal(expected, Resolve(new() { ["MAX_SIMILAR_USERS"] = raw }).MaxSimilarUsers);
    }

    [Fact]
    public void The_dotnet_key_wins_and_then_the_seed_name_is_not_parsed()
    {
        var options = Resolve(new() { ["MAX_SIMILAR_USERS"] = "not a number", ["Recommendations:MaxSimilarUsers"] = "7" });
        Assert.Equal(7, options.MaxSimilarUsers);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-3")]
    [InlineData("1,5")]
    [InlineData("twenty")]
    public void A_value_that_is_not_a_positive_integer_fails_naming_the_setting(string raw)
    {
        var error = Assert.Throws<OptionsValidationException>(() => Resolve(new() { ["MAX_SIMILAR_USERS"] = raw }));
        Assert.Contains("MAX_SIMILAR_USERS", error.Message);
    }
}
