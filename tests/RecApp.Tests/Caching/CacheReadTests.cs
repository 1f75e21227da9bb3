using Microsoft.Extensions.Caching.Hybrid;
using RecApp.Caching;
using RecApp.Tests.Infrastructure;

namespace RecApp.Tests.Caching;

/// <summary>Reads that say where their value came from, per call, including coalesced waiters and eager refreshes.</summary>
public sealed class CacheReadTests : IAsyncLifetime
{
    private readonly string _prefix = $"cr-{Guid.NewGuid():N}"[..15] + ":";
    private string _redis = "";

    public async Task InitializeAsync() => _redis = (await TestServers.Redis).ConnectionString;

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Each_call_learns_whether_it_was_served_from_L1_L2_or_a_factory()
    {
        await using var a = await CacheInstance.StartAsync(_redis, _prefix);
        await using var b = await CacheInstance.StartAsync(_redis, _prefix);
        HybridCache cache = a.Cache;

        var first = await cache.GetOrCreateWithSourceAsync("src", 1, static (n, _) => ValueTask.FromResult(n));
        Assert.Equal(new CacheRead<int>(1, CacheReadSource.Factory, Coalesced: false), first);
        Assert.False(first.IsCacheHit);

        var second = await cache.GetOrCreateWithSourceAsync("src", 2, static (n, _) => ValueTask.FromResult(n));
        Assert.Equal(new CacheRead<int>(1, CacheReadSource.LocalCache, Coalesced: false), second);
        Assert.True(second.IsCacheHit);

        var elsewhere = await ((HybridCache)b.Cache).GetOrCreateWithSourceAsync("src", 3, static (n, _) => ValueTask.FromResult(n));
        Assert.Equal(new CacheRead<int>(1, CacheReadSource.DistributedCache, Coalesced: false), elsewhere);

        var none = await cache.GetOrCreateWithSourceAsync("src-none", 4, static (n, _) => ValueTask.FromResult(n),
            new HybridCacheEntryOptions { Flags = HybridCacheEntryFlags.DisableUnderlyingData });
        Assert.Equal(CacheReadSource.None, none.Source);
        Assert.False(none.IsCacheHit);
    }

    [Fact]
    public async Task A_caller_that_joins_another_callers_factory_is_told_so_and_is_not_a_hit()
    {
        await using var instance = await CacheInstance.StartAsync(_redis, _prefix);
        HybridCache cache = instance.Cache;
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Func<TaskCompletionSource, CancellationToken, ValueTask<string>> factory = async (g, _) =>
        {
            await g.Task;
            return "made";
        };

        var leader = cache.GetOrCreateWithSourceAsync("joined", gate, factory).AsTask();
        await LocalProcess.WaitUntilAsync(() => Task.FromResult(instance.Cache.InFlight == 1), TimeSpan.FromSeconds(10), "the first call to start");
        var waiter = cache.GetOrCreateWithSourceAsync("joined", gate, factory).AsTask();
        await LocalProcess.WaitUntilAsync(() => Task.FromResult(instance.Stats.CoalescedWaiters == 1), TimeSpan.FromSeconds(10), "the second call to join");
        gate.SetResult();

        Assert.Equal(new CacheRead<string>("made", CacheReadSource.Factory, Coalesced: false), await leader);
        var joined = await waiter;
        Assert.Equal(new CacheRead<string>("made", CacheReadSource.Factory, Coalesced: true), joined);
        Assert.False(joined.IsCacheHit);
    }

    [Fact]
    public async Task The_call_that_triggers_an_eager_refresh_is_a_hit_and_its_state_is_reused_only_by_the_refresh()
    {
        var time = new ManualTimeProvider(DateTimeOffset.UtcNow);
        await using var instance = await CacheInstance.StartAsync(_redis, _prefix, new Dictionary<string, string?>
        {
            ["Caching:JitterPercent"] = "0",
            ["Caching:EagerRefreshWindow"] = "0.2",
            ["Caching:Expiration"] = "00:10:00",
        }, time);
        HybridCache cache = instance.Cache;
        var runs = 0;
        ValueTask<int> Factory(int offset, CancellationToken _) => ValueTask.FromResult(offset + Interlocked.Increment(ref runs));

        Assert.Equal(CacheReadSource.Factory, (await cache.GetOrCreateWithSourceAsync("eager-src", 100, Factory)).Source);
        time.Advance(TimeSpan.FromMinutes(9));
        var triggering = await cache.GetOrCreateWithSourceAsync("eager-src", 200, Factory);
        Assert.Equal(new CacheRead<int>(101, CacheReadSource.LocalCache, Coalesced: false), triggering);
        await LocalProcess.WaitUntilAsync(() => Task.FromResult(instance.Cache.PeekLocal("eager-src")?.Value is 202 && instance.Cache.InFlight == 0),
            TimeSpan.FromSeconds(10), "the background refresh (run with the triggering call's state) to land");
        Assert.Equal(new CacheRead<int>(202, CacheReadSource.LocalCache, Coalesced: false), await cache.GetOrCreateWithSourceAsync("eager-src", 300, Factory));
    }

    [Fact]
    public async Task Another_HybridCache_reports_its_own_factory_runs()
    {
        var other = new DictionaryHybridCache();
        var made = await other.GetOrCreateWithSourceAsync("k", 5, static (n, _) => ValueTask.FromResult(n));
        var cached = await other.GetOrCreateWithSourceAsync("k", 6, static (n, _) => ValueTask.FromResult(n));
        Assert.Equal(new CacheRead<int>(5, CacheReadSource.Factory, Coalesced: false), made);
        Assert.Equal(new CacheRead<int>(5, CacheReadSource.Cache, Coalesced: false), cached);
        Assert.True(cached.IsCacheHit);
    }
}
