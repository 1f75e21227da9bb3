using System.Diagnostics;
using System.Net;
using RecApp.Api;
using RecApp.ServiceDefaults;
using RecApp.Tests.Infrastructure;

namespace RecApp.Tests.Api;

/// <summary>
/// PostgreSQL frozen (SIGSTOP on the server and its backends, as a hung host): every request-path wait on it is short
/// and bounded. Before, the first <c>/health</c> took 36 s (the check waited out Npgsql's command timeout and its
/// cancellation), later ones 3 s, and a write answered 503 only after 36 s.
/// </summary>
[Collection(TimingCollection.Name)]
public sealed class FrozenDatabaseTests(ApiWorld world) : IClassFixture<ApiWorld>
{
    [Fact]
    public async Task Health_writes_and_stats_answer_within_their_bounds_and_all_is_Healthy_soon_after_the_thaw()
    {
        await using var postgres = await PostgresServer.StartPrivateAsync();
        var connectionString = await ApiWorld.CreateOnAsync(postgres, "frozen");
        await using var api = world.CreateApi(postgres: connectionString, settings: new Dictionary<string, string?>
        {
            ["Caching:KeyPrefix"] = world.KeyPrefix + "frozen:",
            ["Api:WarmUsers"] = "0",
            // The deployment's bounds, under test here.
            ["Database:WriteTimeout"] = new DatabaseTimeoutOptions().WriteTimeout.ToString(),
            ["HealthChecks:Timeout"] = new DependencyHealthOptions().Timeout.ToString(),
        });
        using var client = api.CreateClient();
        await LocalProcess.WaitUntilAsync(async () =>
            (await (await client.GetAsync("/health")).JsonAsync()).GetProperty("status").GetString() == "Healthy",
            TimeSpan.FromSeconds(20), "/health to be Healthy before the freeze");
        Assert.Equal(HttpStatusCode.Accepted, (await client.PostJsonAsync("/interactions", """{"user_id": 1, "item_id": 2, "type": "view"}""")).StatusCode);

        postgres.Freeze();
        try
        {
            for (var call = 0; call < 3; call++)
            {
                var (health, took) = await TimedAsync(() => client.GetAsync("/health"));
                Assert.True(took < TimeSpan.FromSeconds(1.5), $"/health call {call} took {took.TotalMilliseconds:F0} ms");
                Assert.Equal(HttpStatusCode.OK, health.StatusCode); // degraded, still ready: cached answers and the model serve
                var report = await health.JsonAsync();
                Assert.Equal("Degraded", report.GetProperty("status").GetString());
                var recdb = report.GetProperty("entries").GetProperty("recdb");
                Assert.Equal("Degraded", recdb.GetProperty("status").GetString());
                Assert.Contains("did not answer within", recdb.GetProperty("description").GetString());
            }

            var (write, writeTook) = await TimedAsync(() =>
                client.PostJsonAsync("/interactions", """{"user_id": 1, "item_id": 3, "type": "click", "event_id": "frozen-1"}"""));
            Assert.True(writeTook < TimeSpan.FromSeconds(3), $"the write took {writeTook.TotalMilliseconds:F0} ms");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, write.StatusCode);
            Assert.True(write.Headers.RetryAfter is not null, "a 503 says when to retry");

            var (stats, statsTook) = await TimedAsync(() => client.GetAsync("/stats"));
            Assert.True(statsTook < TimeSpan.FromSeconds(1.5), $"/stats took {statsTook.TotalMilliseconds:F0} ms");
            Assert.Equal(HttpStatusCode.OK, stats.StatusCode);
            var body = await stats.JsonAsync();
            Assert.Contains("did not answer", body.GetProperty("database_error").GetString());
            Assert.True(body.GetProperty("model").GetProperty("serving_version").GetInt64() > 0, "what is in process is still reported");
        }
        finally
        {
            postgres.Thaw();
        }

        await LocalProcess.WaitUntilAsync(async () =>
            (await (await client.GetAsync("/health")).JsonAsync()).GetProperty("status").GetString() == "Healthy",
            TimeSpan.FromSeconds(2), "/health to be Healthy again after the thaw");
        Assert.Equal(HttpStatusCode.Accepted,
            (await client.PostJsonAsync("/interactions", """{"user_id": 1, "item_id": 3, "type": "click", "event_id": "frozen-1"}""")).StatusCode);
    }

    private static async Task<(HttpResponseMessage Response, TimeSpan Took)> TimedAsync(Func<Task<HttpResponseMessage>> call)
    {
        var started = Stopwatch.GetTimestamp();
        var response = await call();
        return (response, Stopwatch.GetElapsedTime(started));
    }
}
