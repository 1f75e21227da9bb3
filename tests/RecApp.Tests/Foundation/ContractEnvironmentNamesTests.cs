using Microsoft.Extensions.Configuration;
using RecApp.ServiceDefaults;

namespace RecApp.Tests.Foundation;

/// <summary>The one table mapping the service contract's environment names onto configuration keys (pure configuration logic).</summary>
public sealed class ContractEnvironmentNamesTests
{
    private static ConfigurationManager Configuration(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationManager();
        configuration.AddInMemoryCollection(settings);
        configuration.AddContractEnvironmentNames();
        return configuration;
    }

    [Fact]
    public void Contract_names_become_their_keys_in_the_keys_units()
    {
        var configuration = Configuration(new()
        {
            ["CACHE_TTL_POPULAR"] = "900 # 15 minutes",
            ["SIMILARITIES_REFRESH_MINUTES"] = "1.5",
            ["CACHE_CLEANUP_HOURS"] = "2",
            ["MAX_SIMILAR_USERS"] = "12",
        });

        Assert.Equal(TimeSpan.FromMinutes(15), configuration.GetValue<TimeSpan>("Api:PopularTtl"));
        Assert.Equal(TimeSpan.FromSeconds(90), configuration.GetValue<TimeSpan>("Refresher:SimilaritiesRefreshInterval"));
        Assert.Equal(TimeSpan.FromHours(2), configuration.GetValue<TimeSpan>("Refresher:CleanupInterval"));
        // The engine's key, so RecommendationOptions can bind it like any other.
        Assert.Equal(12, configuration.GetSection("Recommendations:Neighbors").GetValue<int>("MaxSimilarUsers"));
        Assert.Contains("MaxSimilarUsers", configuration.GetSection("Recommendations:Neighbors").GetChildren().Select(c => c.Key));
    }

    [Fact]
    public void The_dotnet_key_wins_wherever_it_is_set()
    {
        var configuration = Configuration(new() { ["CACHE_TTL_POPULAR"] = "60" });
        configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Api:PopularTtl"] = "00:00:30" });

        Assert.Equal(TimeSpan.FromSeconds(30), configuration.GetValue<TimeSpan>("Api:PopularTtl"));
        Assert.Single(configuration.GetSection("Api").GetChildren(), c => c.Key == "PopularTtl");
    }

    [Fact]
    public void Every_contract_name_maps_to_one_key()
    {
        Assert.Equal(ContractEnvironmentNames.All.Count, ContractEnvironmentNames.All.Select(n => n.Name).Distinct().Count());
        Assert.Equal(ContractEnvironmentNames.All.Count, ContractEnvironmentNames.All.Select(n => n.Key).Distinct(StringComparer.OrdinalIgnoreCase).Count());
    }

    [Fact]
    public void A_bad_contract_value_names_the_contract_setting()
    {
        var configuration = Configuration(new() { ["DEFAULT_PAGE_SIZE"] = "twenty" });

        var error = Assert.ThrowsAny<Exception>(() => configuration["Api:DefaultPageSize"]);

        Assert.Contains("DEFAULT_PAGE_SIZE", error.Message);
        Assert.Contains("twenty", error.Message);
    }

    [Fact]
    public void The_seeds_connection_urls_become_connection_strings()
    {
        var configuration = Configuration(new()
        {
            ["RECOMMENDATIONS_DATABASE_URL"] = "postgresql://rec%40app:p%3Ass@db.internal:6543/recommendations?sslmode=require",
            ["RECOMMENDATIONS_REDIS_URL"] = "redis://:secret@cache.internal:6380/1",
        });

        var postgres = new Npgsql.NpgsqlConnectionStringBuilder(configuration.GetConnectionString("recdb"));
        Assert.Equal(("db.internal", 6543, "recommendations", "rec@app", "p:ss", Npgsql.SslMode.Require),
            (postgres.Host, postgres.Port, postgres.Database, postgres.Username, postgres.Password, postgres.SslMode));
        var redis = StackExchange.Redis.ConfigurationOptions.Parse(configuration.GetConnectionString("redis")!);
        Assert.EndsWith("cache.internal:6380", redis.EndPoints.Single().ToString());
        Assert.Equal("secret", redis.Password);
        Assert.Equal(1, redis.DefaultDatabase);
        Assert.Equal("127.0.0.1:6379,defaultDatabase=2",
            Configuration(new() { ["RECOMMENDATIONS_REDIS_URL"] = "redis://127.0.0.1/2" }).GetConnectionString("redis"));
    }

    [Theory]
    [InlineData("RECOMMENDATIONS_DATABASE_URL", "mysql://u:hunter2@host/db")]
    [InlineData("RECOMMENDATIONS_REDIS_URL", "redis://:hunter2@host:6379/cache")]
    public void A_bad_url_fails_naming_the_setting_without_echoing_the_password(string name, string url)
    {
        var configuration = Configuration(new() { [name] = url });

        var error = Assert.ThrowsAny<Exception>(() => configuration.GetConnectionString(name.Contains("REDIS") ? "redis" : "recdb"));

        Assert.Contains(name, error.Message);
        Assert.DoesNotContain("hunter2", error.Message);
    }
}
