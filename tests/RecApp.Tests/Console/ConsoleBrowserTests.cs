using System.Globalization;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using RecApp.Api.Console;
using RecApp.Tests.Api;
using RecApp.Tests.Infrastructure;

namespace RecApp.Tests.OperatorConsole;

/// <summary>
/// The console in headless chromium against the real API: sign-in, the overview, the cache, a user, an experiment
/// run from the console's form, an item. Assertions are on what the page shows; each view's screenshot is written
/// to docs/screenshots/console-*.png.
/// </summary>
public sealed class ConsoleBrowserTests(ConsoleBrowser console) : IClassFixture<ConsoleBrowser>
{
    private static ILocatorAssertions Expect(ILocator locator) => Assertions.Expect(locator);

    private static string Number(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private async Task<IPage> SignedInAsync(string view)
    {
        var page = await console.NewPageAsync();
        await page.GotoAsync("/console/#" + view);
        await page.Locator("#admin-key").FillAsync(ApiWorld.AdminKey);
        await page.Locator("#login button[type=submit]").ClickAsync();
        await Expect(page.Locator("#tabs")).ToBeVisibleAsync();
        return page;
    }

    private async Task<System.Text.Json.JsonElement> AdminJsonAsync(HttpClient client, string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("X-Admin-Key", ApiWorld.AdminKey);
        var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.JsonAsync();
    }

    [Fact]
    public async Task A_wrong_key_is_refused_and_the_right_one_opens_the_overview_with_the_model_and_the_data()
    {
        using var client = console.Api.CreateClient();
        var stats = await (await client.GetAsync("/stats")).JsonAsync();
        var page = await console.NewPageAsync();
        await page.GotoAsync("/console");

        await page.Locator("#admin-key").FillAsync("not-the-key");
        await page.Locator("#login button[type=submit]").ClickAsync();
        await Expect(page.Locator("#login-error")).ToHaveTextAsync("The admin key was refused.");
        await Expect(page.Locator("#tabs")).ToBeHiddenAsync();
        Assert.Null(await page.EvaluateAsync<string?>("sessionStorage.getItem('recapp.adminKey')"));

        await page.Locator("#admin-key").FillAsync(ApiWorld.AdminKey);
        await page.Locator("#login button[type=submit]").ClickAsync();

        await Expect(page.Locator("#model-version .value")).ToHaveTextAsync(Number(stats.GetProperty("model").GetProperty("serving_version").GetInt64()));
        await Expect(page.Locator("#count-items .value")).ToHaveTextAsync("60");
        await Expect(page.Locator("#count-users .value")).ToHaveTextAsync("40");
        // The world's 320 events plus whatever the class's other tests posted before this one ran.
        var interactions = stats.GetProperty("data").GetProperty("interactions").GetInt64();
        Assert.True(interactions >= 320, $"{interactions} interactions");
        await Expect(page.Locator("#count-interactions .value")).ToHaveTextAsync(Number(interactions));
        var parts = stats.GetProperty("model").GetProperty("parts").EnumerateArray().ToArray();
        await Expect(page.Locator("#model-parts tbody tr")).ToHaveCountAsync(parts.Length);
        await Expect(page.Locator("#model-parts")).ToContainTextAsync("item_neighbors");
        // The six recorded runs: a row each, a bar each (the failed one in red), the failure's reason shown.
        await Expect(page.Locator("#job-runs tbody tr")).ToHaveCountAsync(6);
        await Expect(page.Locator("#job-runs")).ToContainTextAsync("database unreachable");
        await Expect(page.Locator("#overview-jobs-chart rect.bar")).ToHaveCountAsync(6);
        await Expect(page.Locator("#overview-jobs-chart rect.bar[fill='#c0392b']")).ToHaveCountAsync(1);
        await ConsoleBrowser.ScreenshotAsync(page, "console-overview.png");
    }

    [Fact]
    public async Task The_cache_view_draws_hit_rates_per_tier_over_time()
    {
        using var client = console.Api.CreateClient();
        var history = console.Api.Services.GetRequiredService<CacheHistory>();
        // Two sampled intervals with reads: first misses, then L1 hits. The samples are taken now (the timer's own
        // step) rather than waited for.
        for (var round = 0; round < 2; round++)
        {
            for (var user = 11; user <= 20; user++)
            {
                Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/users/{user}/recommendations?limit=5")).StatusCode);
            }
            history.Sample();
        }

        var page = await SignedInAsync("cache");

        await Expect(page.Locator("#cache-chart path.series")).ToHaveCountAsync(3);
        await Expect(page.Locator("#cache-chart path.series[data-name='L1 hit rate']")).ToHaveAttributeAsync("d", new System.Text.RegularExpressions.Regex("L"));
        // The newest sample with reads (the page itself reads no lists, so nothing newer has any) is a row of the
        // table: its time, its read count, and a rate where L1 answered.
        var sample = (await AdminJsonAsync(client, "/admin/console/cache-history")).GetProperty("samples").EnumerateArray()
            .Last(x => x.GetProperty("reads").GetInt64() > 0);
        var row = page.Locator("#cache-sample-table tbody tr")
            .Filter(new() { HasText = sample.GetProperty("at").GetDateTimeOffset().UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + " UTC" })
            .Filter(new() { Has = page.Locator("td:nth-child(2)", new() { HasTextRegex = new($"^{Number(sample.GetProperty("reads").GetInt64())}$") }) })
            .First;
        await Expect(row.Locator("td").Nth(2)).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^\d+\.\d%$"));
        await Expect(page.Locator("#tier-l1 .value")).Not.ToHaveTextAsync("0");
        await ConsoleBrowser.ScreenshotAsync(page, "console-cache.png");
    }

    [Fact]
    public async Task A_user_shows_their_history_tier_and_scored_recommendations()
    {
        using var client = console.Api.CreateClient();
        var user = await AdminJsonAsync(client, "/admin/console/users/3");
        var first = user.GetProperty("recommendations").GetProperty("items")[0];

        var page = await SignedInAsync("users/3");

        // 8 seeded events, and one more if the experiment test ran first (every user acted on what they were shown).
        var count = user.GetProperty("interaction_count").GetInt64();
        Assert.InRange(count, 8, 9);
        await Expect(page.Locator("#user-history tbody tr")).ToHaveCountAsync((int)count);
        await Expect(page.Locator("[data-field='tier']")).ToHaveTextAsync("collaborative");
        await Expect(page.Locator("[data-field='interactions']")).ToHaveTextAsync(Number(count));
        await Expect(page.Locator("[data-field='demographics']")).ToHaveTextAsync("m · 35-44 · 213");
        var top = page.Locator("#user-recommendations tbody tr").First;
        await Expect(top.Locator("td").Nth(1)).ToHaveTextAsync(first.GetProperty("item_id").GetInt64().ToString(CultureInfo.InvariantCulture));
        await Expect(top.Locator("td").Nth(4)).ToHaveTextAsync(first.GetProperty("score").GetSingle().ToString("F4", CultureInfo.InvariantCulture));
        await Expect(page.Locator("#user-recommendations svg.score-bar")).ToHaveCountAsync(user.GetProperty("recommendations").GetProperty("items").GetArrayLength());
        await ConsoleBrowser.ScreenshotAsync(page, "console-user.png");

        // The form opens another user: one the API has never seen gets the popular tier.
        await page.Locator("#user-form input[name=id]").FillAsync("5000");
        await page.Locator("#user-form button[type=submit]").ClickAsync();
        await Expect(page.Locator("[data-field='tier']")).ToHaveTextAsync("popular");
        await Expect(page.Locator("[data-field='known']")).ToContainTextAsync("no");
    }

    [Fact]
    public async Task An_experiment_created_and_started_in_the_console_shows_both_variants_after_traffic()
    {
        var page = await SignedInAsync("experiments");
        var form = page.Locator("#experiment-form");
        await form.Locator("input[name=name]").FillAsync("console-ab");
        await form.Locator(".variant").Nth(1).Locator("textarea[name=settings]").FillAsync("CollaborativeWeight=0\nContentWeight=0");
        await form.Locator("button[type=submit]").ClickAsync();
        await Expect(page.Locator("#experiment-results h2")).ToContainTextAsync("console-ab");
        var row = page.Locator("#experiments tbody tr", new() { HasText = "console-ab" });
        await Expect(row.Locator(".status")).ToHaveTextAsync("draft");
        await row.GetByRole(AriaRole.Button, new() { Name = "Start" }).ClickAsync();
        await Expect(row.Locator(".status")).ToHaveTextAsync("running");

        // Traffic over HTTP: every user is shown a page; control users click its first item, variant b users buy it.
        using var client = console.Api.CreateClient();
        var arms = new Dictionary<long, string>();
        for (long user = 1; user <= 40; user++)
        {
            var response = await client.GetAsync($"/users/{user}/recommendations?limit=5");
            arms[user] = Assert.Single(response.Headers.GetValues("X-Experiment"));
            var type = arms[user] == "console-ab_control" ? "click" : "purchase";
            Assert.Equal(HttpStatusCode.Accepted, (await client.PostJsonAsync("/interactions",
                $$"""{"user_id": {{user}}, "item_id": {{(await response.JsonAsync()).Items()[0]}}, "type": "{{type}}"}""")).StatusCode);
        }
        var control = arms.Count(a => a.Value == "console-ab_control");
        Assert.InRange(control, 1, 39);
        await LocalProcess.WaitUntilAsync(async () =>
        {
            var results = (await AdminJsonAsync(client, "/admin/experiments/console-ab")).GetProperty("results").GetProperty("variants");
            return results.EnumerateArray().Sum(v => v.GetProperty("users").GetInt64()) == 40;
        }, TimeSpan.FromSeconds(20), "the exposures to be recorded");

        await page.GetByRole(AriaRole.Button, new() { Name = "Refresh results" }).ClickAsync();
        var variants = page.Locator("#variant-results tbody tr");
        await Expect(variants).ToHaveCountAsync(2);
        await Expect(variants.Nth(0).Locator("td").Nth(0)).ToHaveTextAsync("control");
        await Expect(variants.Nth(0).Locator("td").Nth(1)).ToHaveTextAsync(control.ToString(CultureInfo.InvariantCulture));
        await Expect(variants.Nth(1).Locator("td").Nth(0)).ToHaveTextAsync("b");
        await Expect(variants.Nth(1).Locator("td").Nth(1)).ToHaveTextAsync((40 - control).ToString(CultureInfo.InvariantCulture));
        await Expect(variants.Nth(0).Locator("td").Nth(3)).ToContainTextAsync("100.0% ["); // every control user clicked
        await Expect(page.Locator("#decision-rule")).ToContainTextAsync("two-proportion z-test");
        await Expect(page.Locator("#winners")).ToContainTextAsync("CTR winner");
        await Expect(page.Locator("#experiment-results rect.bar")).ToHaveCountAsync(4); // CTR and conversion, two variants each
        await Expect(page.Locator("#experiment-results line.whisker")).ToHaveCountAsync(4);
        await ConsoleBrowser.ScreenshotAsync(page, "console-experiment.png");

        await row.GetByRole(AriaRole.Button, new() { Name = "Stop" }).ClickAsync();
        await Expect(row.Locator(".status")).ToHaveTextAsync("stopped");
    }

    [Fact]
    public async Task The_item_explorer_shows_an_item_its_popularity_and_similar_items()
    {
        using var client = console.Api.CreateClient();
        var similar = (await (await client.GetAsync("/items/5/similar?limit=3")).JsonAsync()).Items();

        var page = await SignedInAsync("items/5");

        await Expect(page.Locator("[data-field='category']")).ToHaveTextAsync(ApiWorld.CategoryOf(5));
        await Expect(page.Locator("[data-field='popularity rank']")).ToContainTextAsync(new System.Text.RegularExpressions.Regex("^#\\d+|^not in the top"));
        var rows = page.Locator("#similar-items tbody tr");
        await Expect(rows.First.Locator("td").Nth(1)).ToHaveTextAsync(similar[0].ToString(CultureInfo.InvariantCulture));
        await Expect(rows.Nth(2).Locator("td").Nth(1)).ToHaveTextAsync(similar[2].ToString(CultureInfo.InvariantCulture));
        await ConsoleBrowser.ScreenshotAsync(page, "console-item.png");

        // An item id links to that item.
        await rows.First.Locator("a.item-link").ClickAsync();
        await Expect(page.Locator("[data-field='item']")).ToHaveTextAsync(similar[0].ToString(CultureInfo.InvariantCulture));
    }
}
