using System.Diagnostics;
using RecApp.Tests.Infrastructure;
using StackExchange.Redis;

namespace RecApp.Tests.Caching;

/// <summary>
/// Redis killed or hung under the real registration: no read fails, none waits for Redis beyond the cache's hard
/// timeout, and once Redis is back L2 and the backplane work again by themselves.
/// </summary>
public sealed class CacheOutageTests : IAsyncLifetime
{
    // Separates "bounded by the cache's and the client's timeouts" from "held until Redis answers" (the pause below is
    // 30 s), with room for a loaded test machine's thread pool; it is not a speed target. How long a request really
    // waits during an outage is measured by bench/load/run.sh (docs/PERFORMANCE.md).
    private static readonly TimeSpan NoStall = TimeSpan.FromSeconds(5);

    private readonly string _prefix = $"out-{Guid.NewGuid():N}"[..12] + ":";
    private RedisServer _server = null!;

    public async ValueTask InitializeAsync() => _server = await RedisServer.StartPrivateAsync();

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Redis_killed_serves_every_read_and_the_cache_is_whole_again_after_a_restart()
    {
        await using var a = await CacheInstance.StartAsync(_server.ConnectionString, _prefix);
        await using var b = await CacheInstance.StartAsync(_server.ConnectionString, _prefix);
        Assert.Equal("cached", await a.Cache.GetOrCreateAsync("warm", _ => ValueTask.FromResult("cached")));

        _server.Stop();
        for (var i = 0; i < 30; i++)
        {
            var started = Stopwatch.GetTimestamp();
            Assert.Equal("cached", await a.Cache.GetOrCreateAsync("warm", _ => ValueTask.FromResult("factory")));
            Assert.Equal($"new-{i}", await a.Cache.GetOrCreateAsync($"cold-{i}", _ => ValueTask.FromResult($"new-{i}")));
            await a.Cache.RemoveByTagAsync($"tag-{i}");
            Assert.True(Stopwatch.GetElapsedTime(started) < NoStall, $"round {i} waited {Stopwatch.GetElapsedTime(started)} for a dead Redis");
        }

        await _server.StartAsync();
        var restarted = Stopwatch.GetTimestamp();
        var probe = 0;
        await LocalProcess.WaitUntilAsync(async () =>
        {
            var key = $"after-{probe++}";
            await a.Cache.SetAsync(key, "from-a");
            var runs = 0;
            var seen = await b.Cache.GetOrCreateAsync(key, _ => { runs++; return ValueTask.FromResult("factory"); });
            return seen == "from-a" && runs == 0;
        }, TimeSpan.FromSeconds(15), "instance B to read A's writes from Redis again");
        Console.WriteLine($"L2 shared again {Stopwatch.GetElapsedTime(restarted).TotalMilliseconds:F0} ms after Redis restarted.");

        // The backplane is back too: a tag removed on A evicts B's L1 copy.
        var tag = "user:42";
        await LocalProcess.WaitUntilAsync(async () =>
        {
            var key = $"bp-{probe++}";
            await a.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult("old"), tags: [tag]);
            await b.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult("old"), tags: [tag]);
            await a.Cache.RemoveByTagAsync(tag);
            var deadline = Stopwatch.GetTimestamp() + Stopwatch.Frequency;
            while (Stopwatch.GetTimestamp() < deadline)
            {
                if (await b.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult("new"), tags: [tag]) == "new")
                {
                    return true;
                }
                await Task.Yield();
            }
            return false;
        }, TimeSpan.FromSeconds(15), "the backplane to carry tag removals again");
        Console.WriteLine($"Backplane carrying again {Stopwatch.GetElapsedTime(restarted).TotalMilliseconds:F0} ms after Redis restarted.");
    }

    [Fact]
    public async Task A_hung_Redis_costs_readers_no_more_than_the_cache_timeout()
    {
        await using var cache = await CacheInstance.StartAsync(_server.ConnectionString, _prefix);
        Assert.Equal("cached", await cache.Cache.GetOrCreateAsync("warm", _ => ValueTask.FromResult("cached")));
        using var admin = await ConnectionMultiplexer.ConnectAsync(_server.ConnectionString + ",allowAdmin=true");

        await admin.GetDatabase().ExecuteAsync("CLIENT", "PAUSE", "30000", "ALL");
        try
        {
            for (var i = 0; i < 10; i++)
            {
                var started = Stopwatch.GetTimestamp();
                Assert.Equal("cached", await cache.Cache.GetOrCreateAsync("warm", _ => ValueTask.FromResult("factory")));
                Assert.Equal($"v{i}", await cache.Cache.GetOrCreateAsync($"hung-{i}", _ => ValueTask.FromResult($"v{i}")));
                Assert.True(Stopwatch.GetElapsedTime(started) < NoStall, $"round {i} waited {Stopwatch.GetElapsedTime(started)} for a hung Redis");
            }
        }
        finally
        {
            _server.Stop(); // CLIENT UNPAUSE would itself wait out the pause
        }
    }
}
