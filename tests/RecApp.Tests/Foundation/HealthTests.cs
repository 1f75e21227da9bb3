using System.Net;
using System.Text.Json;
using RecApp.Tests.Api;
using RecApp.Tests.Infrastructure;

namespace RecApp.Tests.Foundation;

/// <summary>On a world with a published model, so readiness depends on the dependencies alone.</summary>
public sealed class HealthTests(ApiWorld database) : IClassFixture<ApiWorld>
{
    [Fact]
    public async Task Health_lists_both_dependencies_as_healthy()
    {
        await using var api = new ApiFactory(database.ConnectionString, database.RedisConnectionString);
        using var client = api.CreateClient();

        var response = await client.GetAsync("/health");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("Healthy", body.RootElement.GetProperty("status").GetString());
        var entries = body.RootElement.GetProperty("entries");
        Assert.Equal("Healthy", entries.GetProperty("recdb").GetProperty("status").GetString());
        Assert.Equal("Healthy", entries.GetProperty("redis").GetProperty("status").GetString());
        Assert.Equal("Healthy", entries.GetProperty("model").GetProperty("status").GetString());
    }

    [Fact]
    public async Task Alive_answers_without_running_dependency_checks()
    {
        await using var api = new ApiFactory(database.ConnectionString, "127.0.0.1:1,abortConnect=false,connectTimeout=200");
        using var client = api.CreateClient();

        var response = await client.GetAsync("/alive");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Healthy", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Redis_outage_degrades_the_service_and_heals_without_restart()
    {
        await using var redis = await RedisServer.StartPrivateAsync();
        await using var api = new ApiFactory(database.ConnectionString, redis.ConnectionString);
        using var client = api.CreateClient();
        Assert.Equal("Healthy", await StatusAsync(client));

        redis.Stop();
        string? degraded = null;
        await LocalProcess.WaitUntilAsync(async () => (degraded = await StatusAsync(client)) == "Degraded",
            TimeSpan.FromSeconds(20), "/health to report Degraded");
        var report = await ReportAsync(client);
        Assert.Equal("Unhealthy", report.RootElement.GetProperty("entries").GetProperty("redis").GetProperty("status").GetString());
        Assert.Equal("Healthy", report.RootElement.GetProperty("entries").GetProperty("recdb").GetProperty("status").GetString());

        await redis.StartAsync();
        await LocalProcess.WaitUntilAsync(async () => await StatusAsync(client) == "Healthy",
            TimeSpan.FromSeconds(30), "/health to report Healthy after Redis restarted");
    }

    private static async Task<string?> StatusAsync(HttpClient client)
    {
        using var report = await ReportAsync(client);
        return report.RootElement.GetProperty("status").GetString();
    }

    private static async Task<JsonDocument> ReportAsync(HttpClient client) =>
        JsonDocument.Parse(await (await client.GetAsync("/health")).Content.ReadAsStringAsync());
}
