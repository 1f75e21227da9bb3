using RecApp.Caching;
using RecApp.Tests.Infrastructure;

namespace RecApp.Tests.Caching;

/// <summary>Redis killed mid-test on a private server: callers never see an exception, and the cache heals itself.</summary>
public sealed class OutageTests : IAsyncLifetime
{
    private RedisServer _server = null!;

    public async Task InitializeAsync() => _server = await RedisServer.StartPrivateAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Redis_down_serves_from_L1_and_the_factory_opens_the_breaker_and_heals_after_restart()
    {
        const string prefix = "outage:";
        await using var cache = await CacheInstance.StartAsync(_server.ConnectionString, prefix, new Dictionary<string, string?>
        {
            ["Caching:DistributedCacheTimeout"] = "00:00:00.200",
            ["Caching:CircuitBreakerFailureThreshold"] = "3",
            ["Caching:CircuitBreakerDuration"] = "00:00:01",
        });
        Assert.Equal("cached", await cache.Cache.GetOrCreateAsync("warm", _ => ValueTask.FromResult("cached")));
        Assert.NotNull(await cache.RawAsync(prefix, "warm"));
        await cache.Cache.SetAsync("tagged-before", "old", tags: ["t-out"]);
        await cache.Cache.SetAsync("removed-during", "old");
        await cache.Cache.SetAsync("set-during", "old");

        _server.Stop();

        // Changes made during the outage are kept and written when Redis returns.
        await cache.Cache.RemoveByTagAsync("t-out");
        await cache.Cache.RemoveAsync("removed-during");
        await cache.Cache.SetAsync("set-during", "new");
        Assert.True(cache.Cache.PendingRecoveries >= 3);

        for (var i = 0; i < 30; i++)
        {
            // Every call succeeds: L1 for the warm key, the factory for new ones, Redis writes and removes skipped.
            Assert.Equal("cached", await cache.Cache.GetOrCreateAsync("warm", _ => ValueTask.FromResult("factory")));
            Assert.Equal($"new-{i}", await cache.Cache.GetOrCreateAsync($"cold-{i}", _ => ValueTask.FromResult($"new-{i}")));
            await cache.Cache.SetAsync($"set-{i}", i);
            await cache.Cache.RemoveAsync($"set-{i}");
            await cache.Cache.RemoveByTagAsync($"tag-{i}");
            var batch = await cache.Cache.GetOrCreateManyAsync([$"b-{i}", "warm"], 0, (key, _, _) => ValueTask.FromResult(key));
            Assert.Equal([$"b-{i}", "cached"], batch);
        }
        Assert.Equal("open", cache.Stats.CircuitBreaker);
        Assert.True(cache.Stats.L2Errors >= 3);
        Assert.True(cache.Stats.L2Skipped > 0);

        await _server.StartAsync();
        var probe = 0;
        await LocalProcess.WaitUntilAsync(async () =>
        {
            var key = $"after-{probe++}";
            await cache.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult("back"));
            try
            {
                return await cache.Redis.GetDatabase().KeyExistsAsync(prefix + key);
            }
            catch (StackExchange.Redis.RedisConnectionException)
            {
                return false; // the test's own check, not the cache, found Redis still unreachable
            }
        }, TimeSpan.FromSeconds(30), "the cache to write to Redis again");
        Assert.Equal("closed", cache.Stats.CircuitBreaker);
        await LocalProcess.WaitUntilAsync(() => Task.FromResult(cache.Cache.PendingRecoveries == 0), TimeSpan.FromSeconds(30), "outage changes to be replayed");

        await using var other = await CacheInstance.StartAsync(_server.ConnectionString, prefix);
        Assert.Equal("fresh", await other.Cache.GetOrCreateAsync("tagged-before", _ => ValueTask.FromResult("fresh")));
        Assert.Equal("fresh", await other.Cache.GetOrCreateAsync("removed-during", _ => ValueTask.FromResult("fresh")));
        Assert.Equal("new", await other.Cache.GetOrCreateAsync("set-during", _ => ValueTask.FromResult("fresh")));
        var l2Before = other.Stats.L2Hits;
        Assert.Equal("back", await other.Cache.GetOrCreateAsync($"after-{probe - 1}", _ => ValueTask.FromResult("factory")));
        Assert.Equal(l2Before + 1, other.Stats.L2Hits);
        await LocalProcess.WaitUntilAsync(() => Task.FromResult(cache.Cache.IsBackplaneSubscribed), TimeSpan.FromSeconds(30), "the backplane to resubscribe");
        await other.Cache.SetAsync("warm", "changed-elsewhere");
        await LocalProcess.WaitUntilAsync(async () => await cache.Cache.GetOrCreateAsync("warm", _ => ValueTask.FromResult("x")) == "changed-elsewhere",
            TimeSpan.FromSeconds(10), "backplane messages to arrive after the restart");
    }
}
