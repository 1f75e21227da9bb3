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

    [Fact]
    public async Task Slow_Redis_costs_callers_no_more_than_the_timeout_and_no_exception()
    {
        const string prefix = "slow:";
        await using var cache = await CacheInstance.StartAsync(_server.ConnectionString, prefix, new Dictionary<string, string?>
        {
            ["Caching:DistributedCacheTimeout"] = "00:00:00.100",
            ["Caching:CircuitBreakerFailureThreshold"] = "100",
        });
        Assert.Equal("warm", await cache.Cache.GetOrCreateAsync("warm", _ => ValueTask.FromResult("warm")));

        // A script that keeps the server busy for 2 s: every other command waits behind it.
        const string busy = """
            local s = redis.call('TIME'); local start = tonumber(s[1]) * 1000000 + tonumber(s[2])
            while true do
              local t = redis.call('TIME')
              if tonumber(t[1]) * 1000000 + tonumber(t[2]) - start > 2000000 then break end
            end
            return 1
            """;
        var start = new System.Diagnostics.ProcessStartInfo(LocalProcess.FindExecutable("redis-cli", "/usr/bin", "/usr/local/bin"))
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
        };
        foreach (var argument in new[] { "-p", _server.Port.ToString(), "EVAL", busy, "0" })
        {
            start.ArgumentList.Add(argument);
        }
        using var blocker = System.Diagnostics.Process.Start(start)!;
        var blocking = blocker.WaitForExitAsync();
        await LocalProcess.WaitUntilAsync(async () =>
        {
            // The cache's own read times out once the script runs.
            var before = cache.Stats.L2Errors;
            await cache.Cache.GetOrCreateAsync("probe-" + Guid.NewGuid().ToString("N"), _ => ValueTask.FromResult(0));
            return cache.Stats.L2Errors > before || blocking.IsCompleted;
        }, TimeSpan.FromSeconds(10), "Redis to be busy");
        Assert.False(blocking.IsCompleted, "the busy script ended before the cache saw it");

        Assert.Equal("made", await cache.Cache.GetOrCreateAsync("during-slow", _ => ValueTask.FromResult("made")));
        Assert.Equal("warm", await cache.Cache.GetOrCreateAsync("warm", _ => ValueTask.FromResult("factory")));
        Assert.True(cache.Stats.L2Errors >= 2);
        await blocking;
    }
}
