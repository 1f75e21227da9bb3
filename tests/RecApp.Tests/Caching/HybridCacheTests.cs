using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Caching.Hybrid;
using RecApp.Api.Recommendations;
using RecApp.Tests.Infrastructure;

namespace RecApp.Tests.Caching;

/// <summary>
/// The behaviours RecApp relies on, proven on the real registration (FusionCache as HybridCache over Redis):
/// stampede protection, tag and key invalidation across instances through the backplane, and L2 sharing.
/// </summary>
public sealed class HybridCacheTests : IAsyncLifetime
{
    private readonly string _prefix = $"hc-{Guid.NewGuid():N}"[..12] + ":";
    private RedisServer _redis = null!;

    public async ValueTask InitializeAsync() => _redis = await TestServers.Redis;

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    [Fact]
    public async Task A_thousand_concurrent_callers_on_a_cold_key_run_the_factory_once()
    {
        await using var cache = await CacheInstance.StartAsync(_redis.ConnectionString, _prefix);
        var runs = 0;
        var release = new TaskCompletionSource();
        var callers = Enumerable.Range(0, 1000).Select(_ => cache.Cache.GetOrCreateAsync("cold", async ct =>
        {
            Interlocked.Increment(ref runs);
            await release.Task.WaitAsync(ct);
            return "value";
        }).AsTask()).ToArray();

        release.SetResult();
        var values = await Task.WhenAll(callers);

        Assert.Equal(1, runs);
        Assert.All(values, v => Assert.Equal("value", v));
    }

    [Fact]
    public async Task A_value_written_by_one_instance_is_read_from_Redis_by_another()
    {
        await using var a = await CacheInstance.StartAsync(_redis.ConnectionString, _prefix);
        await using var b = await CacheInstance.StartAsync(_redis.ConnectionString, _prefix);
        var list = new RecApp.Engine.Domain.RankedList([3, 1, 2], [0.9f, 0.5f, 0.1f], RecApp.Engine.Domain.RecommendationAlgorithm.Content, 7);
        await a.Cache.SetAsync("shared", list);

        var l2Before = b.Tiers.Read().L2Hits;
        var getOnly = new HybridCacheEntryOptions { Flags = HybridCacheEntryFlags.DisableUnderlyingData };
        RecApp.Engine.Domain.RankedList? read = null;
        // A's write to Redis runs in the background: B polls with reads that never run a factory.
        await LocalProcess.WaitUntilAsync(async () =>
            (read = await b.Cache.GetOrCreateAsync("shared", _ => ValueTask.FromResult<RecApp.Engine.Domain.RankedList>(null!), getOnly)) is not null,
            TimeSpan.FromSeconds(10), "A's write to reach Redis");

        Assert.NotNull(read);
        Assert.Equal(list.ItemIds, read.ItemIds);
        Assert.Equal(list.Scores, read.Scores);
        Assert.Equal(list.Algorithm, read.Algorithm);
        Assert.Equal(list.ModelVersion, read.ModelVersion);
        Assert.True(b.Tiers.Read().L2Hits > l2Before);
    }

    [Fact]
    public async Task Removing_a_tag_on_one_instance_evicts_the_L1_copy_on_the_other()
    {
        await using var a = await CacheInstance.StartAsync(_redis.ConnectionString, _prefix);
        await using var b = await CacheInstance.StartAsync(_redis.ConnectionString, _prefix);
        Assert.Equal("old", await a.Cache.GetOrCreateAsync("tagged", _ => ValueTask.FromResult("old"), tags: ["user:1"]));
        // Each instance holds its own L1 copy (Redis writes run in the background, so B may or may not find A's).
        Assert.Equal("old", await b.Cache.GetOrCreateAsync("tagged", _ => ValueTask.FromResult("old"), tags: ["user:1"]));

        var started = Stopwatch.GetTimestamp();
        await a.Cache.RemoveByTagAsync("user:1");
        await LocalProcess.WaitUntilAsync(
            async () => await b.Cache.GetOrCreateAsync("tagged", _ => ValueTask.FromResult("new")) == "new",
            TimeSpan.FromSeconds(10), "instance B to drop its copy after A removed the tag");
        Console.WriteLine($"Tag invalidation reached the other instance in {Stopwatch.GetElapsedTime(started).TotalMilliseconds:F1} ms.");
        Assert.Equal("new", await a.Cache.GetOrCreateAsync("tagged", _ => ValueTask.FromResult("new")));
    }

    [Fact]
    public async Task Removing_a_key_on_one_instance_evicts_the_other()
    {
        await using var a = await CacheInstance.StartAsync(_redis.ConnectionString, _prefix);
        await using var b = await CacheInstance.StartAsync(_redis.ConnectionString, _prefix);
        await a.Cache.GetOrCreateAsync("keyed", _ => ValueTask.FromResult(1));
        Assert.Equal(1, await b.Cache.GetOrCreateAsync("keyed", _ => ValueTask.FromResult(1)));

        await a.Cache.RemoveAsync("keyed");

        await LocalProcess.WaitUntilAsync(
            async () => await b.Cache.GetOrCreateAsync("keyed", _ => ValueTask.FromResult(2)) == 2,
            TimeSpan.FromSeconds(10), "instance B to drop the removed key");
    }

    [Fact]
    public async Task A_ranked_list_stored_after_a_miss_notifies_no_other_instance_while_other_keys_still_do()
    {
        await using var a = await CacheInstance.StartAsync(_redis.ConnectionString, _prefix);
        await using var b = await CacheInstance.StartAsync(_redis.ConnectionString, _prefix);
        // The keys themselves, not totals: a warm-up's background publish or an auto-recovery replay may land at any time.
        var published = new ConcurrentQueue<string>();
        var received = new ConcurrentQueue<string>();
        a.Fusion.Events.Backplane.MessagePublished += (_, e) => published.Enqueue(e.Message.CacheKey ?? "");
        b.Fusion.Events.Backplane.MessageReceived += (_, e) => received.Enqueue(e.Message.CacheKey ?? "");
        var entry = new HybridCacheEntryOptions { Expiration = TimeSpan.FromMinutes(5), LocalCacheExpiration = TimeSpan.FromMinutes(5) };

        // Lists first, then one other key, all with entry options as RankedListCache passes them.
        for (var user = 1; user <= 5; user++)
        {
            await a.Cache.GetOrCreateAsync($"{RankedListCache.KeyPrefix}u:{user}:v1", _ => ValueTask.FromResult(user), entry, [RankedListCache.UserTag(user)]);
        }
        await a.Cache.GetOrCreateAsync("other", _ => ValueTask.FromResult(0), entry);

        // The messages go out in the background. A list's write, had it sent one, started before the other key's: once
        // that one has arrived, a list's would almost surely be here too.
        await LocalProcess.WaitUntilAsync(() => Task.FromResult(received.Any(key => key.EndsWith(":other", StringComparison.Ordinal))),
            TimeSpan.FromSeconds(10), "instance B to receive the other key's notification");
        Assert.Contains(published, key => key.EndsWith(":other", StringComparison.Ordinal));
        Assert.DoesNotContain(published, key => key.Contains(RankedListCache.KeyPrefix, StringComparison.Ordinal));
        Assert.DoesNotContain(received, key => key.Contains(RankedListCache.KeyPrefix, StringComparison.Ordinal));

        // A change to a list's data still travels: as its tag's removal.
        await a.Cache.RemoveByTagAsync(RankedListCache.UserTag(3));
        await LocalProcess.WaitUntilAsync(() => Task.FromResult(received.Any(key => key.Contains(RankedListCache.UserTag(3), StringComparison.Ordinal))),
            TimeSpan.FromSeconds(10), "instance B to receive the tag removal");
    }

    [Fact]
    public async Task A_failing_factory_reaches_the_caller_and_caches_nothing()
    {
        await using var cache = await CacheInstance.StartAsync(_redis.ConnectionString, _prefix);

        await Assert.ThrowsAsync<InvalidOperationException>(async () =>
            await cache.Cache.GetOrCreateAsync<int>("failing", _ => throw new InvalidOperationException("engine failed")));

        Assert.Equal(5, await cache.Cache.GetOrCreateAsync("failing", _ => ValueTask.FromResult(5)));
    }
}
