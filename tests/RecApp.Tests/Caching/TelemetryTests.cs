using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using RecApp.Tests.Infrastructure;

namespace RecApp.Tests.Caching;

/// <summary>The RecApp.Caching meter and activity source report what the statistics count.</summary>
public sealed class TelemetryTests
{
    [Fact]
    public async Task Meter_counts_hits_by_tier_misses_and_factory_runs()
    {
        var redis = await TestServers.Redis;
        await using var cache = await CacheInstance.StartAsync(redis.ConnectionString, $"tm-{Guid.NewGuid():N}"[..15] + ":", services: s => s.AddMetrics());
        var factory = cache.Services.GetRequiredService<IMeterFactory>();
        var counts = new Dictionary<string, long>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                // Only this instance's meter: other tests in the process use their own factories.
                if (instrument.Meter.Name == "RecApp.Caching" && instrument.Meter.Scope == factory)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            var name = instrument.Name;
            foreach (var tag in tags)
            {
                if (tag.Key == "tier")
                {
                    name += "/" + tag.Value;
                }
            }
            lock (counts)
            {
                counts[name] = counts.GetValueOrDefault(name) + value;
            }
        });
        listener.Start();

        var activities = new List<Activity>();
        using var activityListener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "RecApp.Caching",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            ActivityStopped = activity =>
            {
                lock (activities)
                {
                    activities.Add(activity);
                }
            },
        };
        ActivitySource.AddActivityListener(activityListener);

        var key = "telemetry-" + Guid.NewGuid().ToString("N");
        await cache.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult(1));
        await cache.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult(2));
        await cache.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult(3), new() { Flags = Microsoft.Extensions.Caching.Hybrid.HybridCacheEntryFlags.DisableLocalCacheRead });

        lock (counts)
        {
            Assert.Equal(1, counts.GetValueOrDefault("recapp.cache.hits/l1"));
            Assert.Equal(1, counts.GetValueOrDefault("recapp.cache.hits/l2"));
            Assert.Equal(1, counts.GetValueOrDefault("recapp.cache.misses"));
            Assert.Equal(1, counts.GetValueOrDefault("recapp.cache.factory.runs"));
        }
        lock (activities)
        {
            Assert.Contains(activities, a => a.OperationName == "cache factory" && (string?)a.GetTagItem("cache.key") == key);
            Assert.Contains(activities, a => a.OperationName == "cache l2 get");
        }
    }
}
