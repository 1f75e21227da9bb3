using System.Net;
using System.Text.Json;
using Npgsql;
using RecApp.Tests.Infrastructure;

namespace RecApp.Tests.Api;

/// <summary>Degrade, don't fail: Redis or PostgreSQL going away, and coming back.</summary>
public sealed class OutageTests(ApiWorld world) : IClassFixture<ApiWorld>
{
    [Fact]
    public async Task Without_Redis_reads_still_answer_and_health_is_degraded_then_L2_is_used_again()
    {
        await using var redis = await RedisServer.StartPrivateAsync();
        await using var a = world.CreateApi(redis: redis.ConnectionString);
        using var client = a.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/users/21/recommendations")).StatusCode);

        redis.Stop();
        var cached = await client.GetAsync("/users/21/recommendations");
        var computed = await client.GetAsync("/users/22/recommendations");
        await LocalProcess.WaitUntilAsync(async () => await HealthAsync(client) == "Degraded",
            TimeSpan.FromSeconds(20), "/health to say Degraded");

        Assert.Equal(HttpStatusCode.OK, cached.StatusCode);
        Assert.True((await cached.JsonAsync()).GetProperty("cache_hit").GetBoolean());
        Assert.Equal(HttpStatusCode.OK, computed.StatusCode);

        await redis.StartAsync();
        await LocalProcess.WaitUntilAsync(async () => await HealthAsync(client) == "Healthy",
            TimeSpan.FromSeconds(30), "/health to say Healthy again");
        // A list computed on A now reaches Redis, and a second instance reads it from there (L2), not the engine.
        await using var b = world.CreateApi(redis: redis.ConnectionString);
        using var clientB = b.CreateClient();
        var user = 23;
        await LocalProcess.WaitUntilAsync(async () =>
        {
            user++;
            await client.GetAsync($"/users/{user}/recommendations");
            var fromB = await (await clientB.GetAsync($"/users/{user}/recommendations")).JsonAsync();
            return fromB.GetProperty("cache_hit").GetBoolean();
        }, TimeSpan.FromSeconds(20), "instance B to read A's list from Redis");
        var tiers = (await (await clientB.GetAsync("/stats")).JsonAsync()).GetProperty("cache").GetProperty("tiers");
        Assert.True(tiers.GetProperty("l2_hits").GetInt64() >= 1);
    }

    [Fact]
    public async Task An_item_write_does_not_wait_for_a_stalled_Redis()
    {
        await using var redis = await RedisServer.StartPrivateAsync();
        await using var api = world.CreateApi(redis: redis.ConnectionString);
        using var client = api.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/items/7")).StatusCode);
        using var admin = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(redis.ConnectionString + ",allowAdmin=true");

        // Redis holds every command for a minute: connected, but silent, which 1.2.6's async calls wait out forever.
        await admin.GetDatabase().ExecuteAsync("CLIENT", "PAUSE", "60000", "ALL");
        try
        {
            var put = client.PutJsonAsync("/items/7", """{"title": "Item 7", "category": "toys", "price": 50}""");
            var deleted = client.DeleteAsync("/items/8");

            // The deadline only separates "bounded" from "held by the pause"; the bound itself is one second.
            Assert.Equal(HttpStatusCode.OK, (await put.WaitAsync(TimeSpan.FromSeconds(30))).StatusCode);
            Assert.Equal(HttpStatusCode.NoContent, (await deleted.WaitAsync(TimeSpan.FromSeconds(30))).StatusCode);
        }
        finally
        {
            redis.Stop(); // CLIENT UNPAUSE would itself wait out the pause
        }
    }

    [Fact]
    public async Task Without_PostgreSQL_cached_answers_are_served_writes_are_503_and_nothing_acknowledged_is_lost()
    {
        await using var postgres = await PostgresServer.StartPrivateAsync();
        var connectionString = await ApiWorld.CreateOnAsync(postgres, "outage");
        await using var api = world.CreateApi(postgres: connectionString, settings: new Dictionary<string, string?>
        {
            ["Caching:KeyPrefix"] = world.KeyPrefix + "pg:",
        });
        using var client = api.CreateClient();
        const string personalized = "/users/8/recommendations?limit=5";
        const string popular = """{"user_params": {"gender": "f"}}""";
        var before = await (await client.GetAsync(personalized)).JsonAsync();
        await client.PostJsonAsync("/popular", popular);

        var acknowledged = 0;
        var sent = 0;
        async Task<HttpResponseMessage> SendEventAsync()
        {
            var response = await client.PostJsonAsync("/interactions",
                $$"""{"user_id": 9001, "item_id": {{sent++ % 60 + 1}}, "type": "click"}""");
            if (response.StatusCode == HttpStatusCode.Accepted)
            {
                acknowledged += (await response.JsonAsync()).GetProperty("accepted").GetInt32();
            }
            return response;
        }
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.Accepted, (await SendEventAsync()).StatusCode);
        }

        // Stop while writes are in flight: each is either acknowledged (and stored) or refused.
        var writer = Task.Run(async () =>
        {
            for (var i = 0; i < 20; i++)
            {
                await SendEventAsync();
            }
        });
        postgres.Stop();
        await writer;

        var refused = await client.PostJsonAsync("/interactions", """{"user_id": 9001, "item_id": 1, "type": "view"}""");
        var feedback = await client.PostJsonAsync("/feedback", """{"user_id": 9001, "item_id": 1, "rating": 3}""");
        var cached = await client.GetAsync(personalized);
        var uncached = await client.GetAsync("/users/12/recommendations?limit=5"); // a miss: its history is unreadable
        var uncachedAgain = await client.GetAsync("/users/12/recommendations?limit=5");
        var cachedPopular = await client.PostJsonAsync("/popular", popular);
        var health = await HealthAsync(client);
        var stats = await client.GetAsync("/stats");
        var read = await client.GetAsync("/items/1");
        using var invalidate = new HttpRequestMessage(HttpMethod.Post, "/admin/cache/invalidate")
        {
            Content = new StringContent("""{"item_id": 1}""", System.Text.Encoding.UTF8, "application/json"),
        };
        invalidate.Headers.Add("X-Admin-Key", ApiWorld.AdminKey);
        var invalidated = await client.SendAsync(invalidate);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.True(refused.Headers.RetryAfter?.Delta > TimeSpan.Zero);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, feedback.StatusCode);
        Assert.Equal(HttpStatusCode.OK, cached.StatusCode);
        Assert.Equal(before.Items(), (await cached.JsonAsync()).Items());
        Assert.Equal(HttpStatusCode.OK, cachedPopular.StatusCode);
        // Degraded, not failed: the in-process popular list, never stored as the user's own list.
        Assert.Equal(HttpStatusCode.OK, uncached.StatusCode);
        var degraded = await uncached.JsonAsync();
        Assert.Equal("popular", degraded.GetProperty("algorithm_used").GetString());
        Assert.Equal(5, degraded.Items().Length);
        // The popular list itself came from the cache, but the answer is not the user's list: not a hit, and says why.
        Assert.False(degraded.GetProperty("cache_hit").GetBoolean());
        Assert.Equal("database_unavailable", degraded.GetProperty("degraded").GetString());
        Assert.Equal(JsonValueKind.Null, before.GetProperty("degraded").ValueKind);
        Assert.Equal(HttpStatusCode.OK, uncachedAgain.StatusCode);
        Assert.False((await uncachedAgain.JsonAsync()).GetProperty("cache_hit").GetBoolean());
        Assert.Equal("Degraded", health);
        Assert.Equal(HttpStatusCode.OK, stats.StatusCode);
        Assert.Equal(2, (await stats.JsonAsync()).GetProperty("cache").GetProperty("fallbacks").GetInt64()); // counted apart
        Assert.Equal(HttpStatusCode.ServiceUnavailable, read.StatusCode);
        Assert.DoesNotContain("stored", (await read.JsonAsync()).GetProperty("detail").GetString()); // a read stores nothing anyway
        Assert.Contains("nothing was stored", (await refused.JsonAsync()).GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.OK, invalidated.StatusCode); // the eviction happened; only the re-read could not
        Assert.Contains("could not be re-read", (await invalidated.JsonAsync()).GetProperty("warning").GetString());

        await postgres.RestartAsync();
        await LocalProcess.WaitUntilAsync(async () => (await SendEventAsync()).StatusCode == HttpStatusCode.Accepted,
            TimeSpan.FromSeconds(20), "writes to be accepted again");
        var recovered = await (await client.GetAsync("/users/12/recommendations?limit=5")).JsonAsync();
        Assert.NotEqual("popular", recovered.GetProperty("algorithm_used").GetString()); // user 12 has history: computed now
        await using var check = NpgsqlDataSource.Create(connectionString);
        await using var count = check.CreateCommand("SELECT count(*) FROM interactions WHERE user_id = 9001");
        Assert.Equal((long)acknowledged, await count.ExecuteScalarAsync());
    }

    /// <summary>Before: a warning with a ~4 KB stack trace per refused write (9,175 refusals wrote 299,857 lines in 15 s).</summary>
    [Fact]
    public async Task A_thousand_refused_writes_during_an_outage_log_a_signal_not_a_flood()
    {
        await using var postgres = await PostgresServer.StartPrivateAsync();
        var connectionString = await ApiWorld.CreateOnAsync(postgres, "quiet");
        var logs = new LogCapture();
        await using var instance = world.CreateApi(postgres: connectionString, settings: new Dictionary<string, string?>
        {
            ["Caching:KeyPrefix"] = world.KeyPrefix + "quiet:",
            ["Api:WarmUsers"] = "0",
            ["Logging:LogLevel:Default"] = "Information", // what a deployment logs: every line that counts
            ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
        });
        var api = logs.On(instance);
        using var client = api.CreateClient();
        Assert.Equal(HttpStatusCode.Accepted, (await client.PostJsonAsync("/interactions", """{"user_id": 1, "item_id": 1, "type": "view"}""")).StatusCode);

        postgres.Stop();
        var before = logs.Lines.Count;
        var refused = 0;
        for (var i = 0; i < 1000; i++)
        {
            var response = await client.PostJsonAsync("/interactions", $$"""{"user_id": 1, "item_id": {{i % 60 + 1}}, "type": "click"}""");
            refused += response.StatusCode == HttpStatusCode.ServiceUnavailable ? 1 : 0;
        }
        var during = logs.Lines.Skip(before).Where(l => l.Level >= Microsoft.Extensions.Logging.LogLevel.Information).ToArray();

        await postgres.RestartAsync();
        await LocalProcess.WaitUntilAsync(async () =>
                (await client.PostJsonAsync("/interactions", """{"user_id": 1, "item_id": 2, "type": "view"}""")).StatusCode == HttpStatusCode.Accepted,
            TimeSpan.FromSeconds(20), "writes to be accepted again");

        Assert.Equal(1000, refused);
        Assert.True(during.Length < 20, $"{during.Length} lines:\n" + string.Join("\n", during.Select(l => $"{l.Level} {l.Category}: {l.Message}")));
        Assert.DoesNotContain(during, l => l.Exception is not null); // stack traces only at Debug
        Assert.Single(during, l => l.Message.StartsWith("PostgreSQL is unreachable", StringComparison.Ordinal));
        Assert.Contains(logs.Lines, l => l.Level == Microsoft.Extensions.Logging.LogLevel.Information && l.Message.StartsWith("PostgreSQL answers again", StringComparison.Ordinal));
    }

    private static async Task<string?> HealthAsync(HttpClient client) =>
        (await (await client.GetAsync("/health")).JsonAsync()).GetProperty("status").GetString();
}
