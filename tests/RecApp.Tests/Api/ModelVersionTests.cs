using RecApp.Data;
using RecApp.Data.Source;
using RecApp.Engine;
using RecApp.Engine.Model;
using RecApp.Engine.Training;
using RecApp.Engine.Embeddings;
using RecApp.Data.Models;
using RecApp.Api.Model;
using RecApp.Refresher.Jobs;
using RecApp.Tests.Infrastructure;
using StackExchange.Redis;

namespace RecApp.Tests.Api;

/// <summary>A new model version reaches the API by announcement, gives new lists, and warms the busiest users.</summary>
public sealed class ModelVersionTests(ApiWorld world) : IClassFixture<ApiWorld>
{
    [Fact]
    public async Task An_announced_version_is_served_at_once_with_new_lists_and_a_warm_cache()
    {
        // The model's own poll is slowed down so that only the announcement can explain a prompt switch.
        await using var api = world.CreateApi(new Dictionary<string, string?> { ["Recommendations:Store:SnapshotPollInterval"] = "00:05:00" });
        using var client = api.CreateClient();
        await LocalProcess.WaitUntilAsync(async () => await PersonalizedMissesAsync(client) >= 5,
            TimeSpan.FromSeconds(30), "the start-up warm-up to finish");
        var before = await (await client.GetAsync("/users/1/recommendations")).JsonAsync();
        var oldVersion = before.GetProperty("model_version").GetInt64();
        var missesBefore = await PersonalizedMissesAsync(client);

        await ApiWorld.RunJobsAsync(world.ConnectionString);
        using (var redis = await ConnectionMultiplexer.ConnectAsync(world.RedisConnectionString))
        {
            // On this world's own prefix: other test classes' instances sharing the Redis must not hear it.
            await redis.GetSubscriber().PublishAsync(RedisChannel.Literal(new RedisNames(world.KeyPrefix).ModelPublished), "new");
        }

        await LocalProcess.WaitUntilAsync(async () =>
            (await (await client.GetAsync("/stats")).JsonAsync()).GetProperty("model").GetProperty("serving_version").GetInt64() > oldVersion,
            TimeSpan.FromSeconds(30), "the announced version to be served");
        // Warm-up computes the lists of the five busiest users (Api:WarmUsers = 5) without any request for them.
        await LocalProcess.WaitUntilAsync(async () => await PersonalizedMissesAsync(client) >= missesBefore + 5,
            TimeSpan.FromSeconds(30), "the warm-up to compute the busiest users' lists");

        var warmed = await (await client.GetAsync("/users/2/recommendations")).JsonAsync();
        var again = await (await client.GetAsync("/users/1/recommendations")).JsonAsync();
        Assert.True(warmed.GetProperty("cache_hit").GetBoolean());
        Assert.True(warmed.GetProperty("model_version").GetInt64() > oldVersion);
        Assert.True(again.GetProperty("model_version").GetInt64() > oldVersion); // the old version's entry is not served
    }

    private static async Task<long> PersonalizedMissesAsync(HttpClient client) =>
        (await (await client.GetAsync("/stats")).JsonAsync()).GetProperty("cache").GetProperty("personalized").GetProperty("misses").GetInt64();
}
