using System.ComponentModel;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using RecApp.Caching;
using StackExchange.Redis;

namespace RecApp.Benchmarks.Caching;

/// <summary>Shaped like the API's cached recommendation lists: a sealed record marked immutable.</summary>
[ImmutableObject(true)]
public sealed record BenchRankedList(long[] ItemIds, float[] Scores, long ModelVersion);

/// <summary>The same data as a mutable class: every L1 hit deserializes a copy.</summary>
public sealed class BenchMutableList
{
    public long[] ItemIds { get; set; } = [];

    public float[] Scores { get; set; } = [];
}

/// <summary>
/// RedisHybridCache read costs: L1 hit (immutable and mutable), L2 hit (one Redis GET), a 20-key batch from Redis
/// (one MGET), and a cold key under contention (100 concurrent callers, one factory run).
/// Run: <c>dotnet run -c Release --project bench/RecApp.Benchmarks -- --filter '*Cache*'</c>.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(RunStrategy.Throughput, launchCount: 1, warmupCount: 3, iterationCount: 8)]
public class HybridCacheBenchmarks
{
    private const string L1Key = "bench:l1";
    private const string MutableKey = "bench:mutable";
    private const string L2Key = "bench:l2";
    private const int Contenders = 100;
    private static readonly HybridCacheEntryOptions s_l2Only = new() { Flags = HybridCacheEntryFlags.DisableLocalCache };
    private static readonly HybridCacheEntryOptions s_localOnly = new() { Flags = HybridCacheEntryFlags.DisableDistributedCache };
    private static readonly Func<CancellationToken, ValueTask<BenchRankedList>> s_unexpected =
        static _ => throw new InvalidOperationException("the factory must not run on a hit");

    private BenchRedis _redis = null!;
    private ServiceProvider _services = null!;
    private HybridCache _cache = null!;
    private string[] _batchKeys = [];
    private int _coldKey;
    private int _userId = 42;

    [GlobalSetup]
    public void Setup()
    {
        _redis = new BenchRedis();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Caching:KeyPrefix"] = "bench:",
            ["Caching:MaximumLocalEntries"] = "1000000",
        }).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConnectionMultiplexer>(_ => ConnectionMultiplexer.Connect(_redis.ConnectionString));
        services.AddRedisHybridCache(configuration);
        _services = services.BuildServiceProvider();
        _cache = _services.GetRequiredService<HybridCache>();

        var list = new BenchRankedList([.. Enumerable.Range(1, 50).Select(i => (long)i)], [.. Enumerable.Range(1, 50).Select(i => 1f / i)], 7);
        _cache.SetAsync(L1Key, list).AsTask().GetAwaiter().GetResult();
        _cache.SetAsync(MutableKey, new BenchMutableList { ItemIds = list.ItemIds, Scores = list.Scores }).AsTask().GetAwaiter().GetResult();
        _cache.SetAsync(L2Key, list).AsTask().GetAwaiter().GetResult();
        _cache.SetAsync($"bench:user:{_userId}", list).AsTask().GetAwaiter().GetResult();
        _batchKeys = [.. Enumerable.Range(0, 20).Select(i => $"bench:batch:{i}")];
        foreach (var key in _batchKeys)
        {
            _cache.SetAsync(key, list, new HybridCacheEntryOptions { Flags = HybridCacheEntryFlags.DisableLocalCacheWrite }).AsTask().GetAwaiter().GetResult();
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _services.Dispose();
        _redis.Dispose();
    }

    [Benchmark(Description = "Cache L1 hit, immutable record")]
    public BenchRankedList L1HitImmutable() => _cache.GetOrCreateAsync(L1Key, s_unexpected).GetAwaiter().GetResult();

    [Benchmark(Description = "Cache L1 hit, immutable record, interpolated key")]
    public BenchRankedList L1HitInterpolatedKey() => _cache.GetOrCreateAsync($"bench:user:{_userId}", s_unexpected).GetAwaiter().GetResult();

    [Benchmark(Description = "Cache L1 hit, mutable class (deserialized copy)")]
    public BenchMutableList L1HitMutable() =>
        _cache.GetOrCreateAsync(MutableKey, static _ => ValueTask.FromResult(new BenchMutableList())).GetAwaiter().GetResult();

    [Benchmark(Description = "Cache L2 hit (Redis GET + deserialize)")]
    public async Task<BenchRankedList> L2Hit() => await _cache.GetOrCreateAsync(L2Key, s_unexpected, s_l2Only);

    [Benchmark(Description = "Cache L2 batch of 20 (one MGET)", OperationsPerInvoke = 20)]
    public async Task<BenchRankedList[]> L2Batch20() =>
        await _cache.GetOrCreateManyAsync<int, BenchRankedList>(_batchKeys, 0, static (_, _, _) => throw new InvalidOperationException("miss"), s_l2Only);

    [Benchmark(Description = "Cache cold key, 100 concurrent callers (per caller)", OperationsPerInvoke = Contenders)]
    public async Task<int> ColdKeyContention()
    {
        var key = "cold:" + Interlocked.Increment(ref _coldKey);
        var runs = 0;
        var callers = new Task<BenchRankedList>[Contenders];
        for (var i = 0; i < Contenders; i++)
        {
            callers[i] = _cache.GetOrCreateAsync(key, async _ =>
            {
                Interlocked.Increment(ref runs);
                await Task.Yield();
                return new BenchRankedList([1], [1f], 1);
            }, s_localOnly).AsTask();
        }
        await Task.WhenAll(callers);
        if (runs != 1)
        {
            throw new InvalidOperationException($"the factory ran {runs} times for one key");
        }
        return runs;
    }
}
