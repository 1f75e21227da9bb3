using System.Net;

namespace RecApp.Tests.Api;

/// <summary>The seed's environment names configure the API; the Api section wins when both are set.</summary>
public sealed class ConfigurationTests(ApiWorld world) : IClassFixture<ApiWorld>
{
    [Fact]
    public async Task Seed_environment_names_set_ttls_and_page_sizes()
    {
        await using var api = world.CreateApi(new Dictionary<string, string?>
        {
            ["CACHE_TTL_POPULAR"] = "60",
            ["Api:PopularTtl"] = "00:00:30",
            ["CACHE_TTL_PERSONALIZED"] = "120 # two minutes",
            ["CACHE_TTL_USER_PROFILE"] = "180",
            ["DEFAULT_PAGE_SIZE"] = "7",
            ["MAX_PAGE_SIZE"] = "10",
            ["MAX_SIMILAR_USERS"] = "12",
        });
        using var client = api.CreateClient();

        var configuration = (await (await client.GetAsync("/stats")).JsonAsync()).GetProperty("configuration");
        var defaulted = await (await client.GetAsync("/users/1/recommendations")).JsonAsync();
        var tooLarge = await client.GetAsync("/users/1/recommendations?limit=11");

        Assert.Equal(30, configuration.GetProperty("cache_ttl_popular").GetInt32());
        Assert.Equal(120, configuration.GetProperty("cache_ttl_personalized").GetInt32());
        Assert.Equal(180, configuration.GetProperty("cache_ttl_user_profile").GetInt32());
        Assert.Equal(10, configuration.GetProperty("max_page_size").GetInt32());
        Assert.Equal(12, configuration.GetProperty("max_similar_users").GetInt32());
        Assert.Equal(7, defaulted.GetProperty("pagination").GetProperty("limit").GetInt32());
        Assert.Equal(7, defaulted.Items().Length);
        Assert.Equal(HttpStatusCode.BadRequest, tooLarge.StatusCode);
    }

    [Fact]
    public void An_invalid_setting_fails_start_up_naming_it()
    {
        using var api = world.CreateApi(new Dictionary<string, string?> { ["DEFAULT_PAGE_SIZE"] = "twenty" });

        var error = Record.Exception(() => api.CreateClient());

        Assert.NotNull(error);
        Assert.Contains("DEFAULT_PAGE_SIZE", error.ToString());
    }

    [Theory]
    [InlineData("CACHE_TTL_POPULAR", "-5")]
    [InlineData("MAX_PAGE_SIZE", "0")]
    [InlineData("MAX_SIMILAR_USERS", "many")]
    [InlineData("Api:PopularTtl", "00:00:00")]
    [InlineData("Api:WarmUsers", "-1")]
    [InlineData("RateLimiting:AdminBurst", "0")]
    public void A_bad_value_of_any_api_setting_fails_start_up_naming_it(string setting, string value)
    {
        using var api = world.CreateApi(new Dictionary<string, string?> { [setting] = value });

        var error = Record.Exception(() => api.CreateClient());

        Assert.NotNull(error);
        Assert.Contains(setting, error.ToString());
    }

    [Fact]
    public void Default_page_size_above_the_maximum_fails_start_up_naming_both()
    {
        using var api = world.CreateApi(new Dictionary<string, string?> { ["DEFAULT_PAGE_SIZE"] = "50", ["MAX_PAGE_SIZE"] = "10" });

        var error = Record.Exception(() => api.CreateClient());

        Assert.NotNull(error);
        Assert.Contains("DEFAULT_PAGE_SIZE", error.ToString());
        Assert.Contains("MAX_PAGE_SIZE", error.ToString());
    }
}
