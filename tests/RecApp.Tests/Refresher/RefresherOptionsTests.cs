using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using RecApp.Refresher.Worker;

namespace RecApp.Tests.Refresher;

public sealed class RefresherOptionsTests
{
    private static RefresherOptions Resolve(Dictionary<string, string?> settings)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddRefresher();
        using var provider = builder.Services.BuildServiceProvider();
        return provider.GetRequiredService<IOptions<RefresherOptions>>().Value;
    }

    [Fact]
    public void Defaults_follow_the_seed()
    {
        var options = Resolve([]);
        Assert.Equal(TimeSpan.FromMinutes(15), options.IntervalFor("popular"));
        Assert.Equal(TimeSpan.FromMinutes(30), options.IntervalFor("profiles"));
        Assert.Equal(TimeSpan.FromMinutes(60), options.IntervalFor("similarities"));
        Assert.Equal(TimeSpan.FromHours(6), options.IntervalFor("cleanup"));
        Assert.Null(options.IntervalFor("something-else"));
        Assert.False(options.SeedDemoDataWhenEmpty);
        Assert.Equal("S", options.DemoDataSize);
    }

    [Fact]
    public void Seed_environment_names_override_the_section()
    {
        var options = Resolve(new()
        {
            ["Refresher:PopularItemsRefreshMinutes"] = "20",
            ["Refresher:UserProfilesRefreshMinutes"] = "45",
            ["POPULAR_ITEMS_REFRESH_MINUTES"] = "5",
            ["SIMILARITIES_REFRESH_MINUTES"] = "90",
            ["CACHE_CLEANUP_HOURS"] = "12",
        });
        Assert.Equal(TimeSpan.FromMinutes(5), options.IntervalFor("popular"));
        Assert.Equal(TimeSpan.FromMinutes(45), options.IntervalFor("profiles"));
        Assert.Equal(TimeSpan.FromMinutes(90), options.IntervalFor("similarities"));
        Assert.Equal(TimeSpan.FromHours(12), options.IntervalFor("cleanup"));
    }

    [Fact]
    public void Invalid_settings_are_named_in_the_error()
    {
        var error = Assert.Throws<OptionsValidationException>(() => Resolve(new()
        {
            ["Refresher:SimilaritiesRefreshMinutes"] = "0",
            ["Refresher:DemoDataSize"] = "XL",
        }));
        Assert.Contains("SimilaritiesRefreshMinutes", error.Message);
        Assert.Contains("DemoDataSize", error.Message);
    }
}
