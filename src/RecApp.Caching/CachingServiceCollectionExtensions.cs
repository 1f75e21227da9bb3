using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace RecApp.Caching;

/// <summary>Registration of <see cref="RedisHybridCache"/>.</summary>
public static class CachingServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="RedisHybridCache"/> as <see cref="HybridCache"/> (and as <see cref="ICacheStatistics"/>),
    /// plus <see cref="IDistributedCache"/>/<see cref="IBufferDistributedCache"/> over Redis, with options bound
    /// from the configuration section <c>Caching</c>. Needs the <see cref="IConnectionMultiplexer"/> that
    /// <c>AddRedisClient("redis")</c> registers.
    /// </summary>
    public static IHostApplicationBuilder AddRedisHybridCache(
        this IHostApplicationBuilder builder, Action<RedisHybridCacheOptions>? configure = null)
    {
        builder.Services.AddRedisHybridCache(builder.Configuration, configure);
        return builder;
    }

    /// <inheritdoc cref="AddRedisHybridCache(IHostApplicationBuilder, Action{RedisHybridCacheOptions}?)"/>
    public static IServiceCollection AddRedisHybridCache(
        this IServiceCollection services, IConfiguration configuration, Action<RedisHybridCacheOptions>? configure = null)
    {
        var options = services.AddOptions<RedisHybridCacheOptions>().Bind(configuration.GetSection(RedisHybridCacheOptions.SectionName));
        if (configure is not null)
        {
            options.Configure(configure);
        }
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => new RedisDistributedCache(
            sp.GetRequiredService<IConnectionMultiplexer>(),
            sp.GetRequiredService<IOptions<RedisHybridCacheOptions>>().Value.KeyPrefix,
            sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton<IDistributedCache>(sp => sp.GetRequiredService<RedisDistributedCache>());
        services.TryAddSingleton<IBufferDistributedCache>(sp => sp.GetRequiredService<RedisDistributedCache>());
        services.TryAddSingleton(sp => new RedisHybridCache(
            sp.GetRequiredService<IOptions<RedisHybridCacheOptions>>(),
            sp.GetRequiredService<RedisDistributedCache>(),
            sp,
            sp.GetService<ILogger<RedisHybridCache>>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetService<System.Diagnostics.Metrics.IMeterFactory>()));
        services.AddSingleton<HybridCache>(sp => sp.GetRequiredService<RedisHybridCache>());
        services.TryAddSingleton<ICacheStatistics>(sp => sp.GetRequiredService<RedisHybridCache>());
        return services;
    }
}
