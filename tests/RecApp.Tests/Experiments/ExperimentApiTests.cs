using System.Net;
using System.Text.Json;
using RecApp.Tests.Api;
using RecApp.Tests.Infrastructure;

namespace RecApp.Tests.Experiments;

/// <summary>An experiment end to end: created and started by the admin API, served, attributed, analysed, stopped.</summary>
public sealed class ExperimentApiTests(ApiWorld world) : IClassFixture<ApiWorld>
{
    private static HttpRequestMessage Admin(HttpMethod method, string path, string? json = null)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Add("X-Admin-Key", ApiWorld.AdminKey);
        if (json is not null)
        {
            request.Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        }
        return request;
    }

    [Fact]
    public async Task Bad_definitions_are_refused_naming_the_field()
    {
        using var client = world.Api.CreateClient();

        var response = await client.SendAsync(Admin(HttpMethod.Post, "/admin/experiments", """
            {"name": "Bad Name", "surface": "personalized",
             "variants": [{"name": "control", "share": 60}, {"name": "b", "share": 60, "settings": {"NoSuchSetting": "1"}}]}
            """));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await response.JsonAsync()).GetProperty("errors");
        Assert.True(errors.TryGetProperty("name", out _));
        Assert.True(errors.TryGetProperty("variants", out _));
        Assert.Contains("NoSuchSetting", errors.GetProperty("variants[1].settings")[0].GetString());
    }

    [Fact]
    public async Task Users_are_split_stably_served_per_variant_attributed_and_analysed()
    {
        await using var other = world.CreateApi();
        using var a = world.Api.CreateClient();
        using var b = other.CreateClient();
        Assert.Equal(HttpStatusCode.Created, (await a.SendAsync(Admin(HttpMethod.Post, "/admin/experiments", """
            {"name": "blend", "surface": "personalized",
             "variants": [{"name": "control", "share": 50}, {"name": "pop", "share": 50, "settings": {"CollaborativeWeight": "0", "ContentWeight": "0"}}]}
            """))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await a.SendAsync(Admin(HttpMethod.Post, "/admin/experiments/blend/start"))).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await a.SendAsync(Admin(HttpMethod.Post, "/admin/experiments",
            """{"name": "second", "surface": "personalized", "variants": [{"name": "a", "share": 50}, {"name": "b", "share": 50}]}"""))).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await a.SendAsync(Admin(HttpMethod.Post, "/admin/experiments/second/start"))).StatusCode);

        // Instance B learns of the start by its own poll; then both put every user in the same arm.
        await LocalProcess.WaitUntilAsync(async () => (await b.GetAsync("/users/1/recommendations")).Headers.Contains("X-Experiment"),
            TimeSpan.FromSeconds(20), "instance B to serve the experiment");
        var arms = new Dictionary<long, string>();
        var shown = new Dictionary<long, long>();
        for (long user = 1; user <= 30; user++)
        {
            var fromA = await a.GetAsync($"/users/{user}/recommendations?limit=5");
            var fromB = await b.GetAsync($"/users/{user}/recommendations?limit=5");
            var label = Assert.Single(fromA.Headers.GetValues("X-Experiment"));
            Assert.Equal(label, Assert.Single(fromB.Headers.GetValues("X-Experiment")));
            var body = await fromA.JsonAsync();
            Assert.Equal(label, body.GetProperty("experiment").GetString());
            arms[user] = label;
            shown[user] = body.Items()[0];
        }
        Assert.Contains("blend_control", arms.Values);
        Assert.Contains("blend_pop", arms.Values);
        // The console shows every variant's list for a user side by side, the user's own marked.
        var explorer = await (await a.SendAsync(Admin(HttpMethod.Get, "/admin/console/users/1"))).JsonAsync();
        var perVariant = explorer.GetProperty("variants").EnumerateArray().ToArray();
        Assert.Equal(["control", "pop"], perVariant.Select(v => v.GetProperty("variant").GetString()));
        Assert.Equal(arms[1], Assert.Single(perVariant, v => v.GetProperty("users_own").GetBoolean()).GetProperty("label").GetString());
        // The variant's settings win over the blend the build tuned: its list is not the control's.
        long[] Ids(JsonElement v) => [.. v.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("item_id").GetInt64())];
        Assert.NotEqual(Ids(perVariant[0]), Ids(perVariant[1]));
        // The variant changes the blend, not the tier: its users with 3+ items are still in the collaborative tier.
        var popUser = arms.First(a => a.Value == "blend_pop").Key;
        Assert.Equal("collaborative", (await (await a.GetAsync($"/users/{popUser}/recommendations")).JsonAsync()).GetProperty("algorithm_used").GetString());

        // Every control user clicks what they were shown; pop users buy it.
        foreach (var (user, label) in arms)
        {
            var type = label == "blend_control" ? "click" : "purchase";
            Assert.Equal(HttpStatusCode.Accepted, (await a.PostJsonAsync("/interactions",
                $$"""{"user_id": {{user}}, "item_id": {{shown[user]}}, "type": "{{type}}"}""")).StatusCode);
        }

        JsonElement results = default;
        await LocalProcess.WaitUntilAsync(async () =>
        {
            results = (await (await a.SendAsync(Admin(HttpMethod.Get, "/admin/experiments/blend"))).JsonAsync()).GetProperty("results");
            return results.GetProperty("variants").EnumerateArray().Sum(v => v.GetProperty("users").GetInt64()) == 30
                && results.GetProperty("variants").EnumerateArray().Sum(v => v.GetProperty("ctr").GetProperty("successes").GetInt64()
                    + v.GetProperty("conversion").GetProperty("successes").GetInt64()) == 30;
        }, TimeSpan.FromSeconds(20), "exposures and interactions to be attributed");
        var control = results.GetProperty("variants")[0];
        var pop = results.GetProperty("variants")[1];
        Assert.Equal("control", control.GetProperty("variant").GetString());
        Assert.Equal(arms.Count(a => a.Value == "blend_control"), control.GetProperty("users").GetInt64());
        Assert.Equal(1.0, control.GetProperty("ctr").GetProperty("rate").GetDouble());
        Assert.Equal(0.0, control.GetProperty("conversion").GetProperty("rate").GetDouble());
        Assert.Equal(1.0, pop.GetProperty("conversion").GetProperty("rate").GetDouble());
        Assert.False(pop.GetProperty("conversion").GetProperty("significant").GetBoolean()); // under 100 users per arm
        Assert.Contains("two-proportion z-test", results.GetProperty("decision_rule").GetString());

        // Stopping ends the split; restarting serves freshly computed lists (exactly the experiment's were evicted),
        // while lists outside the experiment stay cached.
        var popular = """{"user_params": {"gender": "f"}}""";
        await a.PostJsonAsync("/popular", popular);
        Assert.Equal(HttpStatusCode.OK, (await a.SendAsync(Admin(HttpMethod.Post, "/admin/experiments/blend/stop"))).StatusCode);
        var after = await a.GetAsync("/users/2/recommendations?limit=5");
        Assert.False(after.Headers.Contains("X-Experiment"));
        Assert.Equal(JsonValueKind.Null, (await after.JsonAsync()).GetProperty("experiment").ValueKind);
        Assert.Equal(HttpStatusCode.OK, (await a.SendAsync(Admin(HttpMethod.Post, "/admin/experiments/blend/start"))).StatusCode);
        Assert.False((await (await a.GetAsync("/users/2/recommendations?limit=5")).JsonAsync()).GetProperty("cache_hit").GetBoolean());
        Assert.True((await (await a.PostJsonAsync("/popular", popular)).JsonAsync()).GetProperty("cache_hit").GetBoolean());
        await a.SendAsync(Admin(HttpMethod.Post, "/admin/experiments/blend/stop"));
    }

    [Fact]
    public async Task Starting_and_stopping_on_one_instance_reaches_the_other_within_a_second()
    {
        await using var other = world.CreateApi();
        using var a = world.Api.CreateClient();
        using var b = other.CreateClient();
        Assert.Equal(HttpStatusCode.Created, (await a.SendAsync(Admin(HttpMethod.Post, "/admin/experiments",
            """{"name": "crossing", "surface": "personalized", "variants": [{"name": "a", "share": 50}, {"name": "b", "share": 50}]}"""))).StatusCode);
        const string list = "/users/3/recommendations?limit=5";
        Assert.False((await b.GetAsync(list)).Headers.Contains("X-Experiment"));
        try
        {
            Assert.Equal(HttpStatusCode.OK, (await a.SendAsync(Admin(HttpMethod.Post, "/admin/experiments/crossing/start"))).StatusCode);
            // The instances poll every 5 s; only the announcement gets there within the second.
            await LocalProcess.WaitUntilAsync(async () => (await b.GetAsync(list)).Headers.Contains("X-Experiment"),
                TimeSpan.FromSeconds(1), "instance B to serve the experiment started on A");
        }
        finally
        {
            Assert.Equal(HttpStatusCode.OK, (await a.SendAsync(Admin(HttpMethod.Post, "/admin/experiments/crossing/stop"))).StatusCode);
        }
        await LocalProcess.WaitUntilAsync(async () => !(await b.GetAsync(list)).Headers.Contains("X-Experiment"),
            TimeSpan.FromSeconds(1), "instance B to stop serving the experiment stopped on A");
    }
}
