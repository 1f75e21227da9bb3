using RecApp.ServiceDefaults;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using RecApp.Engine;
using RecApp.Engine.Training;
using RecApp.Engine.Embeddings;
using RecApp.Data;
using RecApp.Data.Models;
using RecApp.Api.Model;
using RecApp.Refresher.Jobs;

namespace RecApp.Tests.Engine;

/// <summary>The service contract's <c>MAX_SIMILAR_USERS</c> environment name next to the .NET key.</summary>
public sealed class RecommendationOptionsTests
{
    private static RecommendationOptions Resolve(Dictionary<string, string?> settings)
    {
        // As every service's host has it: the contract's names mapped below the .NET keys (AddServiceDefaults).
        var configuration = new ConfigurationManager();
        configuration.AddInMemoryCollection(settings);
        configuration.AddContractEnvironmentNames();
        using var services = new ServiceCollection()
            .AddSingleton<IConfiguration>(configuration)
            .AddRecommendationOptions()
            .BuildServiceProvider();
        return services.GetRequiredService<IOptions<RecommendationOptions>>().Value;
    }

    [Theory]
    [InlineData("12", 12)]
    [InlineData(" 12 # neighbours per user", 12)]
    public void The_contract_name_applies_with_a_trailing_comment(string raw, int expected)
    {
        Assert.Equal(expected, Resolve(new() { ["MAX_SIMILAR_USERS"] = raw }).Neighbors.MaxSimilarUsers);
    }

    [Fact]
    public void The_dotnet_key_wins_and_then_the_contract_name_is_not_parsed()
    {
        var options = Resolve(new() { ["MAX_SIMILAR_USERS"] = "not a number", ["Recommendations:Neighbors:MaxSimilarUsers"] = "7" });
        Assert.Equal(7, options.Neighbors.MaxSimilarUsers);
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

    [Theory]
    [InlineData("Recommendations:Neighbors:EaseLambda", "0")]
    [InlineData("Recommendations:Scoring:MaxResults", "0")]
    [InlineData("Recommendations:Scoring:ItemKnnShare", "1.5")]
    [InlineData("Recommendations:Scoring:MaxCategoryShare", "0")]
    [InlineData("Recommendations:History:DecayHalfLifeDays", "-1")]
    [InlineData("Recommendations:Store:SnapshotPollInterval", "00:00:00")]
    [InlineData("Recommendations:Tuning:Budget", "-00:00:01")]
    [InlineData("Recommendations:History:RecentEvents", "-5")]
    public void A_bad_engine_setting_fails_naming_it(string key, string raw)
    {
        var error = Assert.Throws<OptionsValidationException>(() => Resolve(new() { [key] = raw }));
        Assert.Contains(key, error.Message);
    }

    [Fact]
    public void The_defaults_are_valid_and_validated_at_start()
    {
        Assert.True(new RecommendationOptionsValidator().Validate(null, new RecommendationOptions()).Succeeded);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Recommendations:Scoring:MaxResults"] = "0" }).Build();
        using var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration).AddRecommendationOptions().BuildServiceProvider();
        // ValidateOnStart: the host's start-up validator is registered and fails on this configuration.
        var startup = services.GetRequiredService<IStartupValidator>();
        Assert.Throws<OptionsValidationException>(() => startup.Validate());
    }
}
