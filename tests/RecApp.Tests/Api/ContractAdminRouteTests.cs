using System.Net;

namespace RecApp.Tests.Api;

/// <summary>The service contract's own admin routes are aliases of <c>POST /admin/refresh/{job}</c>.</summary>
public sealed class ContractAdminRouteTests(ApiWorld world) : IClassFixture<ApiWorld>
{
    [Theory]
    [InlineData("/admin/refresh-popular-items", "popular")]
    [InlineData("/admin/update-user-profiles", "profiles")]
    public async Task The_seeds_admin_routes_queue_their_job(string route, string job)
    {
        using var client = world.Api.CreateClient();
        using var anonymous = await client.PostAsync(route, null);
        using var request = new HttpRequestMessage(HttpMethod.Post, route);
        request.Headers.Add("X-Admin-Key", ApiWorld.AdminKey);

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var queued = (await response.JsonAsync()).GetProperty("requests");
        Assert.Equal(job, Assert.Single(queued.EnumerateArray()).GetProperty("job").GetString());
    }
}
