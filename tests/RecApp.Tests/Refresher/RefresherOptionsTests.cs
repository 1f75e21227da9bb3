using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using RecApp.Engine.Model;
using RecApp.Engine.Training;
using RecApp.Engine.Embeddings;
using RecApp.Data;
using RecApp.Data.Models;
using RecApp.Api.Model;
using RecApp.Refresher.Jobs;
using RecApp.Refresher;
using RecApp.Refresher.Worker;
using RecApp.Data.Jobs;
using RecApp.ServiceDefaults;

namespace RecApp.Tests.Refresher;

public sealed class RefresherOptionsTests
{
    private static RefresherOptions Resolve(Dictionary<string, string?> settings)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Configuration.AddContractEnvironmentNames(); // as AddServiceDefaults does for the worker
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
        Assert.False(options.LoadDemoDataWhenEmpty);
        Assert.Equal("S", options.DemoDataSize);
    }

    [Fact]
    public void Every_job_the_engine_names_has_a_schedule()
    {
        var options = Resolve([]);
        Assert.All(JobNames.Every, job => Assert.NotNull(options.IntervalFor(job)));
    }

    [Fact]
    public void Seed_environment_names_apply_where_the_section_is_silent_and_the_section_wins_when_both_are_set()
    {
        var options = Resolve(new()
        {
            ["Refresher:PopularItemsRefreshInterval"] = "00:20:00",
            ["Refresher:UserProfilesRefreshInterval"] = "00:45:00",
            ["POPULAR_ITEMS_REFRESH_MINUTES"] = "5",
            ["SIMILARITIES_REFRESH_MINUTES"] = "90 # minutes",
            ["CACHE_CLEANUP_HOURS"] = "1.5",
        });
        Assert.Equal(TimeSpan.FromMinutes(20), options.IntervalFor("popular"));
        Assert.Equal(TimeSpan.FromMinutes(45), options.IntervalFor("profiles"));
        Assert.Equal(TimeSpan.FromMinutes(90), options.IntervalFor("similarities"));
        Assert.Equal(TimeSpan.FromHours(1.5), options.IntervalFor("cleanup"));
    }

    [Fact]
    public void Seed_environment_names_parse_in_the_invariant_culture_whatever_the_current_one()
    {
        var current = CultureInfo.CurrentCulture;
        try
        {
            // A culture that writes 1,5 for one and a half (built by hand: the app runs in invariant globalization mode):
            // "1.5" must still mean 1.5 hours, not 15.
            var comma = (CultureInfo)CultureInfo.InvariantCulture.Clone();
            comma.NumberFormat.NumberDecimalSeparator = ",";
            comma.NumberFormat.NumberGroupSeparator = ".";
            CultureInfo.CurrentCulture = comma;
            var options = Resolve(new() { ["CACHE_CLEANUP_HOURS"] = "1.5" });
            Assert.Equal(TimeSpan.FromHours(1.5), options.IntervalFor("cleanup"));
        }
        finally
        {
            CultureInfo.CurrentCulture = current;
        }
    }

    [Theory]
    [InlineData("soon")]
    [InlineData("0")]
    [InlineData("-5")]
    public void A_bad_seed_environment_value_fails_start_up_naming_the_setting(string value)
    {
        var error = Assert.Throws<OptionsValidationException>(() => Resolve(new() { ["USER_PROFILES_REFRESH_MINUTES"] = value }));
        Assert.Contains("USER_PROFILES_REFRESH_MINUTES", error.Message);
        Assert.Contains(value, error.Message);
    }

    [Fact]
    public void Invalid_settings_are_named_in_the_error()
    {
        var error = Assert.Throws<OptionsValidationException>(() => Resolve(new()
        {
            ["Refresher:SimilaritiesRefreshInterval"] = "00:00:00",
            ["Refresher:DemoDataSize"] = "XXL",
        }));
        Assert.Contains("SimilaritiesRefreshInterval", error.Message);
        Assert.Contains("DemoDataSize", error.Message);
    }
}
