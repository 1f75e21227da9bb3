using System.Net;
using RecApp.Tests.Api;

namespace RecApp.Tests.OperatorConsole;

/// <summary>The console's page and endpoints over HTTP: what the browser tests rely on, and what must never leak.</summary>
public sealed class ConsoleApiTests(ApiWorld world) : IClassFixture<ApiWorld>
{
    private static HttpRequestMessage Admin(string path, string? key = ApiWorld.AdminKey)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (key is not null)
        {
            request.Headers.Add("X-Admin-Key", key);
        }
        return request;
    }

    [Fact]
    public async Task The_page_is_served_with_no_secret_and_a_strict_content_policy()
    {
        using var client = world.Api.CreateClient(new() { AllowAutoRedirect = false });

        var bare = await client.GetAsync("/console");
        var page = await client.GetAsync("/console/");
        var script = await client.GetAsync("/console/console.js");

        Assert.Equal(HttpStatusCode.MovedPermanently, bare.StatusCode); // to /console/, so the page's relative links resolve
        Assert.EndsWith("/console/", bare.Headers.Location?.ToString());
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Contains("script-src 'self'", page.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Equal("text/javascript", script.Content.Headers.ContentType?.MediaType);
        var text = await page.Content.ReadAsStringAsync() + await script.Content.ReadAsStringAsync();
        Assert.Contains("X-Admin-Key", text);
        Assert.DoesNotContain(ApiWorld.AdminKey, text);
    }

    [Theory]
    [InlineData("/admin/console/jobs")]
    [InlineData("/admin/console/cache-history")]
    [InlineData("/admin/console/users/3")]
    [InlineData("/admin/console/items/5")]
    public async Task Every_console_endpoint_needs_the_admin_key(string path)
    {
        using var client = world.Api.CreateClient();

        Assert.Equal(HttpStatusCode.Unauthorized, (await client.SendAsync(Admin(path, key: null))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.SendAsync(Admin(path, key: "wrong"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(Admin(path))).StatusCode);
    }

    [Fact]
    public async Task A_user_is_shown_with_history_tier_and_the_list_the_cache_serves()
    {
        using var client = world.Api.CreateClient();

        var user = await (await client.SendAsync(Admin("/admin/console/users/3"))).JsonAsync();
        var served = await (await client.GetAsync("/users/3/recommendations?limit=5")).JsonAsync();

        Assert.True(user.GetProperty("known").GetBoolean());
        Assert.Equal("m", user.GetProperty("gender").GetString());
        Assert.Equal(8, user.GetProperty("interaction_count").GetInt64());
        Assert.Equal(8, user.GetProperty("history").GetArrayLength());
        Assert.Equal("collaborative", user.GetProperty("tier").GetString());
        var items = user.GetProperty("recommendations").GetProperty("items").EnumerateArray().ToArray();
        Assert.Equal(served.Items(), items.Take(5).Select(i => i.GetProperty("item_id").GetInt64()));
        var scores = items.Select(i => i.GetProperty("score").GetSingle()).ToArray();
        Assert.True(scores[0] > 0);
        Assert.Equal(scores.OrderByDescending(s => s), scores); // best first
        // Each item's score by source, as the engine explains it (the blend tier: its weighted sources).
        Assert.All(items, i => Assert.NotEmpty(i.GetProperty("sources").EnumerateArray()));
        var names = items.SelectMany(i => i.GetProperty("sources").EnumerateArray()).Select(s => s.GetProperty("source").GetString()).ToHashSet();
        Assert.Subset(new HashSet<string?>([.. RecApp.Engine.Model.BlendWeights.SourceNames, RecApp.Engine.Scoring.ScoringEngine.PopularFill]), names);
        Assert.Contains(names, n => n != RecApp.Engine.Scoring.ScoringEngine.PopularFill);
        Assert.Empty(user.GetProperty("variants").EnumerateArray()); // no experiment runs here

        var newcomer = await (await client.SendAsync(Admin("/admin/console/users/5000"))).JsonAsync();
        Assert.False(newcomer.GetProperty("known").GetBoolean());
        Assert.Equal("popular", newcomer.GetProperty("tier").GetString());
    }

    [Fact]
    public async Task An_item_is_shown_with_its_neighbors_and_popularity_and_bad_ids_are_problems()
    {
        using var client = world.Api.CreateClient();

        var item = await (await client.SendAsync(Admin("/admin/console/items/5"))).JsonAsync();
        var similar = await (await client.GetAsync("/items/5/similar?limit=5")).JsonAsync();
        var zero = await client.SendAsync(Admin("/admin/console/users/0"));
        var unknown = await client.SendAsync(Admin("/admin/console/items/99999"));

        Assert.Equal(ApiWorld.CategoryOf(5), item.GetProperty("category").GetString());
        Assert.Equal(similar.Items(), item.GetProperty("similar").EnumerateArray().Take(5).Select(i => i.GetProperty("item_id").GetInt64()));
        Assert.True(item.GetProperty("interactions").GetInt64() > 0);
        Assert.True(item.GetProperty("popular_list_length").GetInt32() > 0);
        Assert.Equal(HttpStatusCode.BadRequest, zero.StatusCode);
        Assert.True((await zero.JsonAsync()).GetProperty("errors").TryGetProperty("id", out _));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("application/problem+json", unknown.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Cache_history_has_a_sample_from_start_up_and_rates_per_interval()
    {
        using var client = world.Api.CreateClient();
        await client.GetAsync("/users/4/recommendations");
        var history = world.Api.Services.GetService(typeof(RecApp.Api.Console.CacheHistory)) as RecApp.Api.Console.CacheHistory;
        history!.Sample(); // the timer's own step, taken now rather than waited for

        var answer = await (await client.SendAsync(Admin("/admin/console/cache-history"))).JsonAsync();

        Assert.Equal(10, answer.GetProperty("interval_seconds").GetInt32());
        var samples = answer.GetProperty("samples").EnumerateArray().ToArray();
        Assert.True(samples.Length >= 2);
        // The read lands in the sample taken now, or in a timer sample taken in between.
        var last = samples.Last(s => s.GetProperty("reads").GetInt64() >= 1);
        var sum = last.GetProperty("l1_hit_rate").GetDouble() + last.GetProperty("l2_hit_rate").GetDouble() + last.GetProperty("miss_rate").GetDouble();
        Assert.Equal(1.0, sum, 3);
    }
}
