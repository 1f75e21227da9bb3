using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;
using RecApp.Caching;
using RecApp.Tests.Infrastructure;

namespace RecApp.Tests.Caching;

/// <summary>One instance against the shared Redis: tiers, accounting, flags, serializers, bounds, jitter, eager refresh.</summary>
public sealed class HybridCacheBehaviorTests : IAsyncLifetime
{
    private readonly string _prefix = $"hc-{Guid.NewGuid():N}"[..15] + ":";
    private string _redis = "";

    public async Task InitializeAsync() => _redis = (await TestServers.Redis).ConnectionString;

    public Task DisposeAsync() => Task.CompletedTask;

    private Task<CacheInstance> StartAsync(IDictionary<string, string?>? settings = null, TimeProvider? time = null,
        Action<IServiceCollection>? services = null, Action<RedisHybridCacheOptions>? configure = null) =>
        CacheInstance.StartAsync(_redis, _prefix, settings, time, services, configure);

    [Fact]
    public async Task Hits_and_misses_are_counted_exactly_by_tier()
    {
        await using var a = await StartAsync();
        await using var b = await StartAsync();
        var factory = new CountingFactory();

        Assert.Equal("v1", await a.Cache.GetOrCreateAsync("acct", ct => factory.Next("v1")));       // miss
        Assert.Equal("v1", await a.Cache.GetOrCreateAsync("acct", ct => factory.Next("x")));        // l1
        Assert.Equal("v1", await a.Cache.GetOrCreateAsync("acct", ct => factory.Next("x")));        // l1
        Assert.Equal("v1", await b.Cache.GetOrCreateAsync("acct", ct => factory.Next("x")));        // l2 (b's L1 is empty)
        Assert.Equal("v1", await b.Cache.GetOrCreateAsync("acct", ct => factory.Next("x")));        // l1
        Assert.Equal("v1", await a.Cache.GetOrCreateAsync("acct", ct => factory.Next("x"),
            new HybridCacheEntryOptions { Flags = HybridCacheEntryFlags.DisableLocalCacheRead }));  // l2
        Assert.Equal("v2", await a.Cache.GetOrCreateAsync("other", ct => factory.Next("v2")));      // miss

        var sa = a.Stats;
        var sb = b.Stats;
        Assert.Equal((2L, 1L, 2L), (sa.L1Hits, sa.L2Hits, sa.Misses));
        Assert.Equal((1L, 1L, 0L), (sb.L1Hits, sb.L2Hits, sb.Misses));
        Assert.Equal(2, factory.Runs);
        Assert.Equal(3.0 / 5, sa.HitRate, 6);
        Assert.Equal(2, sa.FactoryRuns);
        Assert.Equal("closed", sa.CircuitBreaker);
    }

    [Fact]
    public async Task Immutable_values_come_back_as_the_same_instance_and_mutable_ones_as_copies()
    {
        await using var cache = await StartAsync();
        var frozen = await cache.Cache.GetOrCreateAsync("frozen", _ => ValueTask.FromResult(new FrozenList([1, 2, 3], "x")));
        Assert.Same(frozen, await cache.Cache.GetOrCreateAsync("frozen", _ => ValueTask.FromResult(new FrozenList([], "other"))));

        var first = await cache.Cache.GetOrCreateAsync("box", _ => ValueTask.FromResult(new MutableBox { Count = 7 }));
        first.Count = 100;
        var second = await cache.Cache.GetOrCreateAsync("box", _ => ValueTask.FromResult(new MutableBox()));
        Assert.NotSame(first, second);
        Assert.Equal(7, second.Count);
        Assert.Equal(1, cache.Stats.L1Hits + cache.Stats.L2Hits - 1); // both second reads were hits
    }

    [Fact]
    public async Task Span_and_interpolated_keys_hit_the_same_entries_as_string_keys()
    {
        await using var cache = await StartAsync();
        var userId = 17;
        var created = await cache.Cache.GetOrCreateAsync($"user:{userId}", _ => ValueTask.FromResult(new FrozenList([1], "u")));
        Assert.Same(created, await cache.Cache.GetOrCreateAsync("user:17", _ => ValueTask.FromResult(new FrozenList([], "x"))));
        Assert.Same(created, await cache.Cache.GetOrCreateAsync($"user:{userId}", _ => ValueTask.FromResult(new FrozenList([], "x"))));
        Assert.Same(created, await cache.Cache.GetOrCreateAsync("user:17".AsSpan(), _ => ValueTask.FromResult(new FrozenList([], "x"))));
        Assert.Equal((3L, 1L), (cache.Stats.L1Hits, cache.Stats.Misses));
        Assert.Equal("fresh", await cache.Cache.GetOrCreateAsync($"user:{userId + 1}", _ => ValueTask.FromResult("fresh")));
        Assert.NotNull(cache.Cache.PeekLocal("user:18"));
    }

    [Fact]
    public async Task Set_and_remove_by_key_and_by_tag_work_on_one_instance()
    {
        await using var cache = await StartAsync();
        var factory = new CountingFactory();
        await cache.Cache.SetAsync("set", "explicit", tags: ["t1"]);
        Assert.Equal("explicit", await cache.Cache.GetOrCreateAsync("set", _ => factory.Next("factory")));
        Assert.Equal(0, factory.Runs);

        await cache.Cache.RemoveAsync("set");
        Assert.Null(await cache.RawAsync(_prefix, "set"));
        Assert.Equal("factory", await cache.Cache.GetOrCreateAsync("set", _ => factory.Next("factory"), tags: ["t1"]));

        await cache.Cache.SetAsync("k2", "two", tags: ["t2"]);
        await cache.Cache.SetAsync("k3", "three", tags: ["t1", "t3"]);
        await cache.Cache.RemoveByTagAsync(["t1"]);
        Assert.Equal("again", await cache.Cache.GetOrCreateAsync("set", _ => factory.Next("again")));
        Assert.Equal("three-new", await cache.Cache.GetOrCreateAsync("k3", _ => factory.Next("three-new")));
        Assert.Equal("two", await cache.Cache.GetOrCreateAsync("k2", _ => factory.Next("unused")));

        await cache.Cache.RemoveByTagAsync("*");
        Assert.Equal("two-new", await cache.Cache.GetOrCreateAsync("k2", _ => factory.Next("two-new")));

        await cache.Cache.SetAsync("m1", "a");
        await cache.Cache.SetAsync("m2", "b");
        await cache.Cache.RemoveAsync(["m1", "m2"]);
        Assert.Null(await cache.RawAsync(_prefix, "m1"));
        Assert.Null(await cache.RawAsync(_prefix, "m2"));
    }

    [Fact]
    public async Task Entries_read_without_tags_are_still_checked_against_their_stored_tags()
    {
        await using var writer = await StartAsync();
        await using var reader = await StartAsync();
        await writer.Cache.SetAsync("tagged", "old", tags: ["product:1"]);
        await writer.Cache.RemoveByTagAsync("product:1");
        // The reader passes no tags: the tags come from the payload, compared with its creation time.
        Assert.Equal("new", await reader.Cache.GetOrCreateAsync("tagged", _ => ValueTask.FromResult("new")));
    }

    [Fact]
    public async Task Known_tag_times_stay_bounded_and_forgetting_one_never_revives_an_entry()
    {
        var time = new ManualTimeProvider(DateTimeOffset.UtcNow);
        await using var cache = await StartAsync(new Dictionary<string, string?>
        {
            ["Caching:MaximumLocalEntries"] = "100", // bound: max(1,000, 2 x entries) tags
            ["Caching:TagCacheDuration"] = "00:00:30",
        }, time);
        await cache.Cache.SetAsync("bounded-old", "old", tags: ["user:0"]);
        time.Advance(TimeSpan.FromSeconds(1));

        // One tag per user, as the API has: 3,000 of them.
        await cache.Cache.RemoveByTagAsync(Enumerable.Range(0, 3000).Select(i => $"user:{i}"));
        await LocalProcess.WaitUntilAsync(() => Task.FromResult(cache.Cache.TrackedTags <= 1000), TimeSpan.FromSeconds(10), "the tag bound to be enforced");
        // Whether user:0 was kept or forgotten, the entry created before its invalidation stays invalid.
        Assert.Equal("new", await cache.Cache.GetOrCreateAsync("bounded-old", _ => ValueTask.FromResult("new"), tags: ["user:0"]));

        // Tags not read for TagCacheDuration are forgotten at the next sweep.
        time.Advance(TimeSpan.FromSeconds(31));
        await cache.Cache.RemoveByTagAsync("after-idle");
        await LocalProcess.WaitUntilAsync(() => Task.FromResult(cache.Cache.TrackedTags <= 3), TimeSpan.FromSeconds(10), "idle tags to be forgotten");
        // An entry created after the forgotten invalidations is served as usual.
        await cache.Cache.SetAsync("bounded-new", "kept", tags: ["user:5"]);
        Assert.Equal("kept", await cache.Cache.GetOrCreateAsync("bounded-new", _ => ValueTask.FromResult("rebuilt"), tags: ["user:5"]));
    }

    [Fact]
    public async Task Every_flag_behaves_as_documented()
    {
        await using var cache = await StartAsync(new Dictionary<string, string?> { ["Caching:CompressionThresholdBytes"] = "64" });
        var factory = new CountingFactory();
        HybridCacheEntryOptions With(HybridCacheEntryFlags flags) => new() { Flags = flags };

        // DisableLocalCacheWrite: Redis gets it, L1 does not.
        await cache.Cache.GetOrCreateAsync("f-lw", _ => factory.Next("v"), With(HybridCacheEntryFlags.DisableLocalCacheWrite));
        Assert.Null(cache.Cache.PeekLocal("f-lw"));
        Assert.NotNull(await cache.RawAsync(_prefix, "f-lw"));

        // DisableDistributedCacheWrite: L1 gets it, Redis does not.
        await cache.Cache.GetOrCreateAsync("f-dw", _ => factory.Next("v"), With(HybridCacheEntryFlags.DisableDistributedCacheWrite));
        Assert.NotNull(cache.Cache.PeekLocal("f-dw"));
        Assert.Null(await cache.RawAsync(_prefix, "f-dw"));

        // DisableLocalCache = both local flags: straight to Redis each time, nothing kept locally.
        var l2Before = cache.Stats.L2Hits;
        await cache.Cache.GetOrCreateAsync("f-lw", _ => factory.Next("unused"), With(HybridCacheEntryFlags.DisableLocalCache));
        Assert.Equal(l2Before + 1, cache.Stats.L2Hits);
        Assert.Null(cache.Cache.PeekLocal("f-lw"));

        // DisableDistributedCacheRead: a value only Redis has is not seen; the factory runs.
        var runs = factory.Runs;
        Assert.Equal("fresh", await cache.Cache.GetOrCreateAsync("f-lw", _ => factory.Next("fresh"), With(HybridCacheEntryFlags.DisableDistributedCacheRead | HybridCacheEntryFlags.DisableLocalCacheRead)));
        Assert.Equal(runs + 1, factory.Runs);

        // DisableDistributedCache: neither read nor written.
        await cache.Cache.GetOrCreateAsync("f-dd", _ => factory.Next("v"), With(HybridCacheEntryFlags.DisableDistributedCache));
        Assert.Null(await cache.RawAsync(_prefix, "f-dd"));

        // DisableUnderlyingData: default on a miss, the factory is not called, nothing is cached.
        runs = factory.Runs;
        Assert.Null(await cache.Cache.GetOrCreateAsync("f-none", _ => factory.Next("v"), With(HybridCacheEntryFlags.DisableUnderlyingData)));
        Assert.Equal(runs, factory.Runs);
        Assert.Null(cache.Cache.PeekLocal("f-none"));
        // ...and the cached value when there is one.
        Assert.Equal("v", await cache.Cache.GetOrCreateAsync("f-dw", _ => factory.Next("x"), With(HybridCacheEntryFlags.DisableUnderlyingData)));

        // DisableCompression: a large value is stored compressed only without the flag.
        var large = new string('a', 4096);
        await cache.Cache.SetAsync("f-c1", large);
        await cache.Cache.SetAsync("f-c2", large, With(HybridCacheEntryFlags.DisableCompression));
        var compressed = (await cache.RawAsync(_prefix, "f-c1"))!;
        var plain = (await cache.RawAsync(_prefix, "f-c2"))!;
        Assert.Equal(1, compressed[3] & 1);
        Assert.Equal(0, plain[3] & 1);
        Assert.True(compressed.Length < plain.Length / 4);
        await using var other = await StartAsync();
        Assert.Equal(large, await other.Cache.GetOrCreateAsync("f-c1", _ => ValueTask.FromResult("")));

        // DisableLocalCacheRead with a value in L1: read from Redis instead.
        l2Before = cache.Stats.L2Hits;
        await cache.Cache.GetOrCreateAsync("f-c2", _ => factory.Next("x"), With(HybridCacheEntryFlags.DisableLocalCacheRead));
        Assert.Equal(l2Before + 1, cache.Stats.L2Hits);
    }

    [Fact]
    public async Task Serializers_from_DI_and_source_generated_JSON_are_honored()
    {
        await using var cache = await StartAsync(services: s =>
        {
            s.AddSingleton<IHybridCacheSerializer<CustomText>, CustomTextSerializer>();
            s.AddSingleton<IHybridCacheSerializerFactory, FactoryMadeSerializerFactory>();
        }, configure: o => o.JsonSerializerOptions = Json.SourceGeneratedOnly);

        await cache.Cache.SetAsync("custom", new CustomText("hello"));
        Assert.EndsWith("custom:hello", Json.Text((await cache.RawAsync(_prefix, "custom"))!));
        await cache.Cache.SetAsync("made", new FactoryMade(42));
        Assert.EndsWith("number=42", Json.Text((await cache.RawAsync(_prefix, "made"))!));
        await cache.Cache.SetAsync("sg", new SourceGenerated(7, "Seven"));
        Assert.EndsWith("""{"item_id":7,"display_name":"Seven"}""", Json.Text((await cache.RawAsync(_prefix, "sg"))!));

        await using var reader = await StartAsync(services: s =>
        {
            s.AddSingleton<IHybridCacheSerializer<CustomText>, CustomTextSerializer>();
            s.AddSingleton<IHybridCacheSerializerFactory, FactoryMadeSerializerFactory>();
        }, configure: o => o.JsonSerializerOptions = Json.SourceGeneratedOnly);
        Assert.Equal(new CustomText("hello"), await reader.Cache.GetOrCreateAsync("custom", _ => ValueTask.FromResult(new CustomText("no"))));
        Assert.Equal(new FactoryMade(42), await reader.Cache.GetOrCreateAsync("made", _ => ValueTask.FromResult(new FactoryMade(0))));
        Assert.Equal(new SourceGenerated(7, "Seven"), await reader.Cache.GetOrCreateAsync("sg", _ => ValueTask.FromResult(new SourceGenerated(0, ""))));
        Assert.Equal(3, reader.Stats.L2Hits);

        // The resolver is the context alone: a type it does not know is returned but cannot be cached.
        var box = await cache.Cache.GetOrCreateAsync("unknown-type", _ => ValueTask.FromResult(new MutableBox { Count = 1 }));
        Assert.Equal(1, box.Count);
        Assert.Null(await cache.RawAsync(_prefix, "unknown-type"));
    }

    [Fact]
    public async Task Corrupt_or_foreign_payloads_are_a_logged_miss()
    {
        await using var cache = await StartAsync();
        var database = cache.Redis.GetDatabase();
        await database.StringSetAsync(_prefix + "foreign", "plain text someone else wrote");
        await database.StringSetAsync(_prefix + "truncated", new byte[] { (byte)'R', (byte)'H', 1, 0, 1, 2 });
        await cache.Cache.SetAsync("wrongtype", "not json for an int[]");

        Assert.Equal("rebuilt", await cache.Cache.GetOrCreateAsync("foreign", _ => ValueTask.FromResult("rebuilt")));
        Assert.Equal("rebuilt", await cache.Cache.GetOrCreateAsync("truncated", _ => ValueTask.FromResult("rebuilt")));
        await using var other = await StartAsync();
        var ints = await other.Cache.GetOrCreateAsync("wrongtype", _ => ValueTask.FromResult(new[] { 1 }));
        Assert.Equal(new[] { 1 }, ints);
        Assert.Equal(3, cache.Stats.Misses + other.Stats.Misses);
    }

    [Fact]
    public async Task A_payload_claiming_a_huge_uncompressed_length_is_a_logged_miss_without_allocating_it()
    {
        var logs = new CapturingLoggerProvider();
        await using var cache = await StartAsync(services: s => s.AddSingleton<Microsoft.Extensions.Logging.ILoggerProvider>(logs));
        // "RH", version 1, compressed, created, expires (far future), no tags, then a recorded length of int.MaxValue.
        var payload = new byte[4 + 8 + 8 + 2 + 4 + 8];
        payload[0] = (byte)'R';
        payload[1] = (byte)'H';
        payload[2] = 1;
        payload[3] = 1;
        System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(payload.AsSpan(4), DateTime.UtcNow.Ticks);
        System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(payload.AsSpan(12), DateTime.UtcNow.AddHours(1).Ticks);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(payload.AsSpan(22), int.MaxValue);
        await cache.Redis.GetDatabase().StringSetAsync(_prefix + "huge-claim", payload);

        Assert.Equal("rebuilt", await cache.Cache.GetOrCreateAsync("huge-claim", _ => ValueTask.FromResult("rebuilt")));
        Assert.Equal((0L, 1L), (cache.Stats.L2Hits, cache.Stats.Misses));
        Assert.Contains(logs.Messages, m => m.Contains("huge-claim", StringComparison.Ordinal) && m.Contains("2147483647", StringComparison.Ordinal));
    }

    [Fact]
    public async Task L1_stays_within_its_bound_and_evicts_the_least_recently_used()
    {
        await using var cache = await StartAsync(new Dictionary<string, string?> { ["Caching:MaximumLocalEntries"] = "100" });
        var localOnly = new HybridCacheEntryOptions { Flags = HybridCacheEntryFlags.DisableDistributedCache };
        for (var i = 0; i < 100; i++)
        {
            await cache.Cache.SetAsync($"lru-{i}", i, localOnly);
        }
        Assert.Equal(0, await cache.Cache.GetOrCreateAsync("lru-0", _ => ValueTask.FromResult(-1), localOnly)); // lru-0 is now the newest
        await cache.Cache.SetAsync("lru-100", 100, localOnly);
        Assert.NotNull(cache.Cache.PeekLocal("lru-0"));
        Assert.Null(cache.Cache.PeekLocal("lru-1"));

        var flood = Enumerable.Range(0, 5000).Select(i => Task.Run(async () =>
            await cache.Cache.GetOrCreateAsync($"flood-{i}", _ => ValueTask.FromResult(i), localOnly)));
        await Task.WhenAll(flood);
        Assert.True(cache.Stats.L1Entries <= 100, $"L1 holds {cache.Stats.L1Entries} entries");
        Assert.Equal(1 + 5000, cache.Stats.L1Evictions);
    }

    [Fact]
    public async Task Byte_bound_is_respected()
    {
        await using var cache = await StartAsync(new Dictionary<string, string?> { ["Caching:MaximumLocalBytes"] = "10000" });
        for (var i = 0; i < 200; i++)
        {
            await cache.Cache.SetAsync($"bytes-{i}", new string('x', 500));
        }
        Assert.InRange(cache.Stats.L1Bytes, 1, 10000);
        Assert.True(cache.Stats.L1Entries < 200);
    }

    [Fact]
    public async Task Jitter_spreads_expirations_within_the_configured_percent()
    {
        var time = new ManualTimeProvider(DateTimeOffset.UtcNow);
        await using var cache = await StartAsync(new Dictionary<string, string?>
        {
            ["Caching:JitterPercent"] = "10",
            ["Caching:Expiration"] = "00:10:00",
        }, time);
        var lifetimes = new List<double>();
        for (var i = 0; i < 200; i++)
        {
            await cache.Cache.SetAsync($"jitter-{i}", i, new HybridCacheEntryOptions { Flags = HybridCacheEntryFlags.DisableDistributedCacheWrite });
            var entry = cache.Cache.PeekLocal($"jitter-{i}")!;
            lifetimes.Add(TimeSpan.FromTicks(entry.ExpiresTicks - entry.CreatedTicks).TotalSeconds);
            Assert.Equal(entry.ExpiresTicks, entry.LocalExpiresTicks);
        }
        Assert.All(lifetimes, l => Assert.InRange(l, 540, 660));
        Assert.True(lifetimes.Max() - lifetimes.Min() > 60, "200 draws of ±10 % should spread over more than 10 %");
    }

    [Fact]
    public async Task Expired_entries_are_rebuilt_and_eager_refresh_runs_once_in_the_background()
    {
        var time = new ManualTimeProvider(DateTimeOffset.UtcNow);
        await using var cache = await StartAsync(new Dictionary<string, string?>
        {
            ["Caching:JitterPercent"] = "0",
            ["Caching:EagerRefreshWindow"] = "0.2",
            ["Caching:Expiration"] = "00:10:00",
        }, time);
        var runs = 0;
        ValueTask<int> Factory(CancellationToken _) => ValueTask.FromResult(Interlocked.Increment(ref runs));

        Assert.Equal(1, await cache.Cache.GetOrCreateAsync("eager", Factory));
        time.Advance(TimeSpan.FromMinutes(7)); // 70 %: not yet in the window
        Assert.Equal(1, await cache.Cache.GetOrCreateAsync("eager", Factory));
        Assert.Equal(1, Volatile.Read(ref runs));

        time.Advance(TimeSpan.FromMinutes(2)); // 90 %: in the last 20 %
        var seen = new List<int>();
        for (var i = 0; i < 20; i++)
        {
            seen.Add(await cache.Cache.GetOrCreateAsync("eager", Factory));
        }
        // The read that triggers the refresh gets the current value without waiting; the background refresh may
        // land during the loop, after which every caller sees the new value and never the old one again.
        Assert.Equal(1, seen[0]);
        Assert.All(seen.SkipWhile(v => v == 1), v => Assert.Equal(2, v));
        await LocalProcess.WaitUntilAsync(() => Task.FromResult(cache.Cache.PeekLocal("eager")?.Value is 2 && cache.Cache.InFlight == 0),
            TimeSpan.FromSeconds(10), "the background refresh to finish");
        Assert.Equal(2, Volatile.Read(ref runs));
        Assert.Equal(2, await cache.Cache.GetOrCreateAsync("eager", Factory));
        Assert.Equal(1, cache.Stats.EagerRefreshes);

        time.Advance(TimeSpan.FromMinutes(11)); // past expiry
        Assert.Equal(3, await cache.Cache.GetOrCreateAsync("eager", Factory));
    }

    [Fact]
    public async Task Stale_if_error_serves_a_young_expired_value_when_the_factory_fails()
    {
        var time = new ManualTimeProvider(DateTimeOffset.UtcNow);
        await using var cache = await StartAsync(new Dictionary<string, string?>
        {
            ["Caching:JitterPercent"] = "0",
            ["Caching:EagerRefreshWindow"] = "0",
            ["Caching:Expiration"] = "00:01:00",
            ["Caching:StaleIfErrorMaximumAge"] = "00:10:00",
        }, time);
        await cache.Cache.SetAsync("stale", "old");
        time.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal("old", await cache.Cache.GetOrCreateAsync<string>("stale", _ => throw new InvalidOperationException("source down")));
        Assert.Equal(1, cache.Stats.StaleServed);

        time.Advance(TimeSpan.FromMinutes(6)); // now older than the maximum age
        await Assert.ThrowsAsync<InvalidOperationException>(async () =>
            await cache.Cache.GetOrCreateAsync<string>("stale", _ => throw new InvalidOperationException("source down")));
    }

    [Fact]
    public async Task Batch_reads_use_L1_then_one_Redis_round_trip_then_the_factory_for_the_rest()
    {
        await using var writer = await StartAsync();
        await using var reader = await StartAsync();
        for (var i = 0; i < 5; i++)
        {
            await writer.Cache.SetAsync($"batch-{i}", $"l2-{i}");
        }
        await reader.Cache.SetAsync("batch-5", "l1-5", new HybridCacheEntryOptions { Flags = HybridCacheEntryFlags.DisableDistributedCacheWrite });
        var keys = Enumerable.Range(0, 8).Select(i => $"batch-{i}").ToArray();
        var factoryKeys = new List<string>();

        var values = await reader.Cache.GetOrCreateManyAsync(keys, factoryKeys, (key, seen, _) =>
        {
            lock (seen)
            {
                seen.Add(key);
            }
            return ValueTask.FromResult("made-" + key);
        });

        Assert.Equal(["l2-0", "l2-1", "l2-2", "l2-3", "l2-4", "l1-5", "made-batch-6", "made-batch-7"], values);
        Assert.Equal(["batch-6", "batch-7"], factoryKeys.Order());
        Assert.Equal((1L, 5L, 2L), (reader.Stats.L1Hits, reader.Stats.L2Hits, reader.Stats.Misses));

        // Now everything is in L1; a second batch touches neither Redis nor the factory.
        Assert.Equal(values, await reader.Cache.GetOrCreateManyAsync(keys, factoryKeys, (key, _, _) => ValueTask.FromResult("no")));
        Assert.Equal(9L, reader.Stats.L1Hits);
    }

    [Fact]
    public async Task Batch_reads_tag_each_created_entry_with_its_own_tags_and_report_sources()
    {
        await using var writer = await StartAsync();
        await using var reader = await StartAsync();
        await writer.Cache.SetAsync("pk-0", "stored-0", tags: ["user:0"]);
        var keys = Enumerable.Range(0, 4).Select(i => $"pk-{i}").ToArray();
        var tagged = new List<string>();
        IEnumerable<string> TagsOf(string key, List<string> seen)
        {
            lock (seen)
            {
                seen.Add(key);
            }
            return ["user:" + key[3..], "all-users"];
        }
        ValueTask<string> Make(string key, List<string> _, CancellationToken __) => ValueTask.FromResult("made-" + key);

        var first = await reader.Cache.GetOrCreateManyWithSourceAsync(keys, tagged, Make, TagsOf);
        Assert.Equal(["stored-0", "made-pk-1", "made-pk-2", "made-pk-3"], first.Select(r => r.Value));
        Assert.Equal([CacheReadSource.DistributedCache, CacheReadSource.Factory, CacheReadSource.Factory, CacheReadSource.Factory], first.Select(r => r.Source));
        Assert.Equal(["pk-1", "pk-2", "pk-3"], tagged.Order()); // hits build no tags
        Assert.Equal(["user:2", "all-users"], reader.Cache.PeekLocal("pk-2")!.Tags);

        // Each entry carries its own tag: invalidating user:2 (on the other instance) recreates pk-2 alone.
        await writer.Cache.RemoveByTagAsync("user:2");
        // (Polled until served from L1: an entry recreated within the clock uncertainty after the invalidation counts
        // as stale once more, by design.)
        CacheRead<string>[] after = [];
        await LocalProcess.WaitUntilAsync(async () =>
        {
            after = await reader.Cache.GetOrCreateManyWithSourceAsync(keys, tagged, (key, _, _) => ValueTask.FromResult("again-" + key), TagsOf);
            return after[2] == new CacheRead<string>("again-pk-2", CacheReadSource.LocalCache, Coalesced: false);
        }, TimeSpan.FromSeconds(5), "pk-2 to be recreated");
        Assert.Equal(["stored-0", "made-pk-1", "again-pk-2", "made-pk-3"], after.Select(r => r.Value));
        Assert.All(after, r => Assert.Equal(CacheReadSource.LocalCache, r.Source));
        // The other instance reads the recreated entry from Redis with its tags.
        Assert.Equal(["stored-0", "made-pk-1", "again-pk-2", "made-pk-3"],
            await writer.Cache.GetOrCreateManyAsync(keys, tagged, (_, _, _) => ValueTask.FromResult("unused"), TagsOf));
        Assert.Equal(["user:3", "all-users"], writer.Cache.PeekLocal("pk-3")!.Tags);
    }

    [Fact]
    public async Task Batch_reads_fall_back_to_per_key_reads_on_another_HybridCache()
    {
        var other = new DictionaryHybridCache();
        var values = await other.GetOrCreateManyAsync(["a", "b"], 10, (key, offset, _) => ValueTask.FromResult(key + offset));
        Assert.Equal(["a10", "b10"], values);
        Assert.Equal(2, other.Calls);
    }

    [Fact]
    public async Task Registration_exposes_statistics_and_a_distributed_cache()
    {
        await using var cache = await StartAsync();
        Assert.Same(cache.Cache, cache.Services.GetRequiredService<ICacheStatistics>());
        var distributed = cache.Services.GetRequiredService<Microsoft.Extensions.Caching.Distributed.IDistributedCache>();
        await distributed.SetAsync("dc", [1, 2, 3], new() { SlidingExpiration = TimeSpan.FromMinutes(1) });
        Assert.Equal([1, 2, 3], await distributed.GetAsync("dc"));
        await distributed.RemoveAsync("dc");
        Assert.Null(await distributed.GetAsync("dc"));

        distributed.Set("dc-sync", [4, 5], new() { AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(1) });
        Assert.Equal([4, 5], distributed.Get("dc-sync"));
        var buffer = cache.Services.GetRequiredService<Microsoft.Extensions.Caching.Distributed.IBufferDistributedCache>();
        var writer = new System.Buffers.ArrayBufferWriter<byte>();
        Assert.True(await buffer.TryGetAsync("dc-sync", writer));
        Assert.Equal([4, 5], writer.WrittenSpan.ToArray());
        distributed.Remove("dc-sync");
        Assert.False(buffer.TryGet("dc-sync", writer));
        Assert.True(await cache.Redis.GetDatabase().KeyExistsAsync(_prefix + "dc") is false);
    }
}
