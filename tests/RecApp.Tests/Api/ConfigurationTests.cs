using System.Net;

namespace RecApp.Tests.Api;

/// <summary>
/// The contract's environment names configure the API; the Api section wins when both are set. (Bad values end start-up:
/// <see cref="Foundation.StartupConfigurationTests"/>, on the service's own process.)
/// </summary>
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
}
