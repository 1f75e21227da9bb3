using System.Collections;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using RecApp.Api.Caching;
using RecApp.Engine.Domain;
using RecApp.Api.Recommendations;
using RecApp.ServiceDefaults;
using IHost = Microsoft.Extensions.Hosting.IHost; // BenchmarkDotNet.Engines has an IHost too

namespace RecApp.Benchmarks.Caching;

/// <summary>
/// An L1 hit on a user's <see cref="RankedList"/> through the API's own registration: <c>HybridCache</c> resolved
/// from <see cref="CacheRegistration.AddRecommendationCache"/> (FusionCache with Redis L2 and backplane on the
/// Aspire-registered multiplexer, a throwaway redis-server), read the way <c>RankedListCache</c> reads it (state,
/// static factory, entry options and the entry's tags). <see cref="Telemetry"/> says what listens: nothing,
/// OpenTelemetry tracing of FusionCache's activity source only, OpenTelemetry metrics of its meter only, that tracing
/// with the OpenTelemetry logging provider, or the service defaults the API always has (all of it, with ASP.NET Core,
/// HTTP client and runtime instrumentation).
/// Run: <c>dotnet run -c Release --project bench/RecApp.Benchmarks -- --filter '*RankedListCacheHit*'</c>.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(RunStrategy.Throughput, launchCount: 1, warmupCount: 3, iterationCount: 8)]
public class RankedListCacheHitBenchmarks
{
    private const long UserId = 123;
    private const long ModelVersion = 7;
    private const string Key = "rec:u:123:v7";

    private static readonly HybridCacheEntryOptions s_entry = new()
    {
        Expiration = TimeSpan.FromHours(2),
        LocalCacheExpiration = TimeSpan.FromHours(2),
    };

    private BenchRedis _redis = null!;
    private IHost _host = null!;
    private HybridCache _cache = null!;
    private ListTags _tags = null!;

    public enum Listeners
    {
        None,
        CacheTracing,
        CacheMetrics,
        CacheTracingAndLogExport,
        ServiceDefaults,
    }

    [Params(Listeners.None, Listeners.CacheTracing, Listeners.CacheMetrics, Listeners.CacheTracingAndLogExport, Listeners.ServiceDefaults)]
    public Listeners Telemetry { get; set; }

    /// <summary>
    /// Tags on the entry: 1 is what <c>RankedListCache</c> gives a user's list (the user's tag; "every list" is the cache's
    /// own clear, which every read checks anyway); 3 is the earlier shape (user, kind, all lists), for comparison.
    /// </summary>
    [Params(1, 3)]
    public int TagCount { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _redis = new BenchRedis();
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:redis"] = _redis.ConnectionString,
        });
        // The API's shipped levels (appsettings.json): Information, but Warning for FusionCache, whose 2.9 writes a
        // "call" and a "return" line at Information for every operation (with a log provider they cost ~7.5 KB a hit).
        builder.Logging.SetMinimumLevel(LogLevel.Information);
        builder.Logging.AddFilter("ZiggyCreatures.Caching.Fusion", LogLevel.Warning);
        switch (Telemetry)
        {
            case Listeners.CacheTracing:
                builder.Services.AddOpenTelemetry().WithTracing(tracing => tracing.AddSource("ZiggyCreatures.Caching.Fusion"));
                break;
            case Listeners.CacheMetrics:
                builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics.AddMeter("ZiggyCreatures.Caching.Fusion*"));
                break;
            case Listeners.CacheTracingAndLogExport:
                // The service defaults' OpenTelemetry logging provider next to cache tracing: isolates its share.
                builder.Logging.AddOpenTelemetry(logging =>
                {
                    logging.IncludeFormattedMessage = true;
                    logging.IncludeScopes = true;
                });
                builder.Services.AddOpenTelemetry().WithTracing(tracing => tracing.AddSource("ZiggyCreatures.Caching.Fusion"));
                break;
            case Listeners.ServiceDefaults:
                builder.AddServiceDefaults();
                break;
        }
        builder.AddRedisConnection("redis");
        builder.AddRecommendationCache();
        _host = builder.Build();
        _host.StartAsync().GetAwaiter().GetResult(); // the API's hosted services, /stats' meter listener among them
        _cache = _host.Services.GetRequiredService<HybridCache>();
        _tags = new ListTags(UserId, TagCount);

        var list = new RankedList(
            [.. Enumerable.Range(1, 200).Select(i => (long)i)], [.. Enumerable.Range(1, 200).Select(i => 1f / i)],
            RecommendationAlgorithm.Collaborative, ModelVersion);
        _cache.SetAsync(Key, list, s_entry, _tags).AsTask().GetAwaiter().GetResult();
        if (!ReferenceEquals(Hit().AsTask().GetAwaiter().GetResult(), list))
        {
            throw new InvalidOperationException("the set-up read was not an L1 hit on the stored list");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _host.StopAsync().GetAwaiter().GetResult();
        _host.Dispose();
        _redis.Dispose();
    }

    [Benchmark]
    public ValueTask<RankedList> Hit() =>
        _cache.GetOrCreateAsync<ListTags, RankedList>(Key, _tags, static (_, _) => throw new InvalidOperationException("the factory must not run on a hit"),
            s_entry, _tags);

    /// <summary>Yields the entry's tags lazily, like RankedListCache's factory state.</summary>
    private sealed class ListTags(long userId, int count) : IEnumerable<string>
    {
        public IEnumerator<string> GetEnumerator()
        {
            yield return "user:" + userId;
            if (count > 1)
            {
                yield return "personalized";
                yield return "recs";
            }
        }

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
