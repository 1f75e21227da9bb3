using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RecApp.Api.Caching;
using RecApp.ServiceDefaults;
using StackExchange.Redis;
using ZiggyCreatures.Caching.Fusion;

namespace RecApp.Tests.Caching;

/// <summary>
/// One cache "instance" as the API registers it (Aspire's Redis client + <see cref="CacheRegistration.AddRecommendationCache"/>:
/// FusionCache behind HybridCache): its own service provider, Redis connection and L1. Several of them over one
/// Redis stand for several replicas.
/// </summary>
internal sealed class CacheInstance : IAsyncDisposable
{
    private readonly IHost _host;

    private CacheInstance(IHost host)
    {
        _host = host;
        Cache = host.Services.GetRequiredService<HybridCache>();
        Redis = host.Services.GetRequiredService<IConnectionMultiplexer>();
        Tiers = host.Services.GetRequiredService<CacheTierStatistics>();
        Fusion = host.Services.GetRequiredService<IFusionCache>();
    }

    public HybridCache Cache { get; }

    public IConnectionMultiplexer Redis { get; }

    public CacheTierStatistics Tiers { get; }

    /// <summary>The same cache as <see cref="Cache"/>, for FusionCache's own events.</summary>
    public IFusionCache Fusion { get; }

    public static async Task<CacheInstance> StartAsync(string redisConnectionString, string keyPrefix, IDictionary<string, string?>? settings = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:redis"] = redisConnectionString,
            ["Caching:KeyPrefix"] = keyPrefix,
        });
        builder.Configuration.AddInMemoryCollection(settings ?? new Dictionary<string, string?>());
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.AddRedisConnection("redis");
        builder.AddRecommendationCache();
        var host = builder.Build();
        await host.StartAsync();
        var instance = new CacheInstance(host);
        // A first round trip, so the backplane has subscribed before a test relies on it.
        await instance.Cache.GetOrCreateAsync("warm-up:" + Guid.NewGuid().ToString("N"), _ => ValueTask.FromResult(0));
        return instance;
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
    }
}
