using System.Text.Json;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Caching.StackExchangeRedis;
using Microsoft.Extensions.Options;
using RecApp.Api.Recommendations;
using RecApp.Data;
using RecApp.Data.Source;
using StackExchange.Redis;
using ZiggyCreatures.Caching.Fusion;
using ZiggyCreatures.Caching.Fusion.Backplane.StackExchangeRedis;
using ZiggyCreatures.Caching.Fusion.Serialization.SystemTextJson;

namespace RecApp.Api.Caching;

public static class CacheRegistration
{
    /// <summary>
    /// <see cref="Microsoft.Extensions.Caching.Hybrid.HybridCache"/> implemented by FusionCache: a bounded L1 in
    /// process, Redis as L2 and as the backplane (both on the multiplexer Aspire's Redis client registered),
    /// stampede protection, tags, fail-safe, eager refresh and auto-recovery. Application code sees only
    /// <c>HybridCache</c>. Microsoft's own implementation (<c>AddHybridCache()</c>) would be a one-line swap for a
    /// single instance, but it has no backplane: a tag removed on one replica stays served from the others' L1.
    /// </summary>
    public static IHostApplicationBuilder AddRecommendationCache(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<CachingOptions>()
            .BindConfiguration(CachingOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<CacheTierStatistics>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<CacheTierStatistics>());

        var settings = Settings(builder);
        var cache = builder.Services.AddFusionCache()
            .WithOptions(options => ConfigureCache(options, settings))
            .WithDefaultEntryOptions(entry => ConfigureDefaultEntries(entry, settings))
            .WithMemoryCache(sp => new MemoryCache(new MemoryCacheOptions
            {
                SizeLimit = sp.GetRequiredService<IOptions<CachingOptions>>().Value.MaximumLocalEntries,
            }))
            .WithSerializer(new FusionCacheSystemTextJsonSerializer(SerializerOptions()))
            .WithDistributedCache(sp => new RedisCache(new RedisCacheOptions
            {
                ConnectionMultiplexerFactory = () => Task.FromResult(sp.GetRequiredService<IConnectionMultiplexer>()),
            }));
        if (settings.EnableBackplane)
        {
            cache.WithBackplane(sp => new RedisBackplane(new RedisBackplaneOptions
            {
                ConnectionMultiplexerFactory = () => Task.FromResult(sp.GetRequiredService<IConnectionMultiplexer>()),
            }));
        }
        cache.AsHybridCache();
        return builder;
    }

    /// <summary>Bound here too (besides the validated options) because FusionCache's builder callbacks get no service provider.</summary>
    private static CachingOptions Settings(IHostApplicationBuilder builder) =>
        builder.Configuration.GetSection(CachingOptions.SectionName).Get<CachingOptions>() ?? new CachingOptions();

    private static void ConfigureCache(FusionCacheOptions options, CachingOptions settings)
    {
        var names = new RedisNames(settings.KeyPrefix);
        options.CacheKeyPrefix = names.CacheKeys;
        options.BackplaneChannelPrefix = names.CacheBackplane;
        options.DistributedCacheCircuitBreakerDuration = settings.CircuitBreakerDuration;
        options.BackplaneCircuitBreakerDuration = settings.CircuitBreakerDuration;
        // Tag expirations are read like entries: the same bounded Redis waits, so a hung Redis never holds a request.
        options.TagsDefaultEntryOptions.DistributedCacheSoftTimeout = settings.DistributedCacheSoftTimeout;
        options.TagsDefaultEntryOptions.DistributedCacheHardTimeout = settings.DistributedCacheHardTimeout;
        options.EnableAutoRecovery = true;
        options.AutoRecoveryDelay = settings.AutoRecoveryDelay;
        // An outage is reported by /health and the Redis client's own log lines; one warning per failed call is noise.
        options.DistributedCacheErrorsLogLevel = LogLevel.Debug;
        options.BackplaneErrorsLogLevel = LogLevel.Debug;
        options.DistributedCacheSyntheticTimeoutsLogLevel = LogLevel.Debug;
        options.FailSafeActivationLogLevel = LogLevel.Debug;
        // Engine failures are handled (outage fallback) or logged by the API's exception handler.
        options.FactoryErrorsLogLevel = LogLevel.Debug;
        options.DefaultEntryOptionsProvider = new RankedListEntries(settings);
    }

    /// <summary>
    /// A ranked list is a function of (user or segment, filters, model version) and of the data behind its tag, and a
    /// change reaches the other instances as a tag removal (tags have their own entry options, which notify). So a list
    /// stored after a miss tells no one: with the default, every miss was a Redis PUBLISH that every other instance
    /// received and handled, N - 1 messages per miss with N replicas. Other keys keep the defaults (a removal notifies).
    /// </summary>
    private sealed class RankedListEntries : FusionCacheEntryOptionsProvider
    {
        private readonly FusionCacheEntryOptions _lists = new();

        public RankedListEntries(CachingOptions settings)
        {
            ConfigureDefaultEntries(_lists, settings);
            _lists.SkipBackplaneNotifications = true;
        }

        public override FusionCacheEntryOptions? GetEntryOptions(FusionCacheEntryOptionsProviderContext ctx, string key, out bool canMutate)
        {
            canMutate = false; // shared: FusionCache copies it before changing anything
            return key.StartsWith(RankedListCache.KeyPrefix, StringComparison.Ordinal) ? _lists : null;
        }
    }

    private static void ConfigureDefaultEntries(FusionCacheEntryOptions entry, CachingOptions settings)
    {
        entry.Size = 1; // the L1 bound counts entries
        entry.IsFailSafeEnabled = settings.FailSafeMaxDuration > TimeSpan.Zero;
        entry.FailSafeMaxDuration = settings.FailSafeMaxDuration;
        entry.FailSafeThrottleDuration = TimeSpan.FromSeconds(30);
        entry.EagerRefreshThreshold = settings.EagerRefreshThreshold > 0 ? (float)settings.EagerRefreshThreshold : null;
        entry.JitterMaxDuration = settings.JitterMaxDuration;
        entry.DistributedCacheSoftTimeout = settings.DistributedCacheSoftTimeout;
        entry.DistributedCacheHardTimeout = settings.DistributedCacheHardTimeout;
        // Writes to Redis and backplane messages never hold a request: the answer is in L1 already.
        entry.AllowBackgroundDistributedCacheOperations = true;
        entry.AllowBackgroundBackplaneOperations = true;
    }

    /// <summary>What goes to Redis: FusionCache's envelope as JSON, with ranked lists in their compact binary form.</summary>
    internal static JsonSerializerOptions SerializerOptions() => new(JsonSerializerDefaults.General)
    {
        Converters = { new RankedListJsonConverter() },
        IncludeFields = true, // FusionCache's own envelope carries value tuples
    };
}
