using System.Net;

namespace RecApp.Tests.Api;

/// <summary>
/// Wrong admin keys are limited per address on every admin-key route, also on those whose group uses the ordinary
/// per-client limit (the console's data, experiments), so no route is a way around the admin limiter.
/// </summary>
public sealed class AdminKeyGuessTests(ApiWorld world) : IClassFixture<ApiWorld>
{
    [Theory]
    [InlineData("/admin/console/jobs")]
    [InlineData("/admin/experiments")]
    public async Task Wrong_keys_run_out_on_every_admin_route_but_the_right_key_still_works(string route)
    {
        await using var api = world.CreateApi(new Dictionary<string, string?>
        {
            ["RateLimiting:Enabled"] = "true",
            ["RateLimiting:AdminBurst"] = "5",
            ["RateLimiting:AdminPermits"] = "1",
            ["RateLimiting:AdminReplenishmentPeriod"] = "00:10:00",
            ["RateLimiting:PermitsPerSecond"] = "10000",
            ["RateLimiting:Burst"] = "10000",
        });
        using var client = api.CreateClient();

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 8; i++)
        {
            using var guess = new HttpRequestMessage(HttpMethod.Get, route);
            guess.Headers.Add("X-Admin-Key", $"guess-{i}");
            using var response = await client.SendAsync(guess);
            statuses.Add(response.StatusCode);
        }
        using var right = new HttpRequestMessage(HttpMethod.Get, "/admin/console/jobs");
        right.Headers.Add("X-Admin-Key", ApiWorld.AdminKey);
        using var allowed = await client.SendAsync(right);

        Assert.Equal(5, statuses.Count(s => s == HttpStatusCode.Unauthorized));
        Assert.Equal(HttpStatusCode.TooManyRequests, statuses[^1]);
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
    }
}
