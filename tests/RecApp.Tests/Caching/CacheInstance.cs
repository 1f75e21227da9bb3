using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using RecApp.Caching;
using StackExchange.Redis;

namespace RecApp.Tests.Caching;

/// <summary>
/// One cache "instance" as an application would have it: its own service provider, Redis connection and L1,
/// registered through <c>AddRedisHybridCache</c>. Several of them over one Redis stand for several processes.
/// </summary>
internal sealed class CacheInstance : IAsyncDisposable
{
    private readonly ServiceProvider _provider;

    private CacheInstance(ServiceProvider provider)
    {
        _provider = provider;
        Cache = (RedisHybridCache)provider.GetRequiredService<HybridCache>();
        Redis = provider.GetRequiredService<IConnectionMultiplexer>();
    }

    public RedisHybridCache Cache { get; }

    public IConnectionMultiplexer Redis { get; }

    public IServiceProvider Services => _provider;

    public CacheStatistics Stats => Cache.GetStatistics();

    public static async Task<CacheInstance> StartAsync(
        string redisConnectionString,
        string keyPrefix,
        IDictionary<string, string?>? settings = null,
        TimeProvider? time = null,
        Action<IServiceCollection>? services = null,
        Action<RedisHybridCacheOptions>? configure = null)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Caching:KeyPrefix"] = keyPrefix,
                ["Caching:DistributedCacheTimeout"] = "00:00:01",
            })
            .AddInMemoryCollection(settings ?? new Dictionary<string, string?>())
            .Build();
        var collection = new ServiceCollection();
        collection.AddLogging();
        collection.AddSingleton<IConnectionMultiplexer>(_ => RedisClientExtensions.ConnectRedis(redisConnectionString));
        if (time is not null)
        {
            collection.AddSingleton(time);
        }
        services?.Invoke(collection);
        collection.AddRedisHybridCache(configuration, configure);
        var instance = new CacheInstance(collection.BuildServiceProvider());
        if (instance.Redis.IsConnected)
        {
            await instance.Cache.EnsureBackplaneSubscribedAsync();
        }
        return instance;
    }

    /// <summary>The raw bytes the cache stored in Redis for a key (null when absent).</summary>
    public async Task<byte[]?> RawAsync(string keyPrefix, string key) => await Redis.GetDatabase().StringGetAsync(keyPrefix + key);

    public async ValueTask DisposeAsync()
    {
        await _provider.DisposeAsync();
    }
}

/// <summary>A clock the test moves by hand (expiry, jitter and eager refresh without waiting).</summary>
internal sealed class ManualTimeProvider(DateTimeOffset start) : TimeProvider
{
    private long _ticks = start.UtcTicks;

    public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _ticks), TimeSpan.Zero);

    public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
}

/// <summary>Factory bookkeeping shared by the cache tests.</summary>
internal sealed class CountingFactory
{
    private int _runs;

    public int Runs => Volatile.Read(ref _runs);

    public ValueTask<string> Next(string value)
    {
        Interlocked.Increment(ref _runs);
        return ValueTask.FromResult(value);
    }
}
