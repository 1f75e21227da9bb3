using System.Diagnostics.Metrics;
using ZiggyCreatures.Caching.Fusion;

namespace RecApp.Api.Caching;

/// <summary>Where cache reads were answered (L1, L2 or neither), as <c>/stats</c> reports them.</summary>
public sealed record CacheTierStats(long L1Hits, long L2Hits, long Misses, long FactoryRuns, long FailSafeActivations,
    long EagerRefreshes, long BackplaneSent, long BackplaneReceived);

/// <summary>
/// Totals of this cache instance's own FusionCache metrics, read with a <see cref="MeterListener"/> so <c>/stats</c>
/// needs no telemetry exporter (the same instruments reach the Aspire dashboard through OpenTelemetry). Listens from
/// host start-up, so every read is counted.
/// </summary>
public sealed class CacheTierStatistics : IHostedService, IDisposable
{
    private const string InstanceTag = "fusioncache.cache.instance_id";

    private static readonly Dictionary<string, int> s_instruments = new(StringComparer.Ordinal)
    {
        ["fusioncache.memory.hit"] = 0,
        ["fusioncache.distributed.hit"] = 1,
        ["fusioncache.cache.miss"] = 2,
        ["fusioncache.factory.success"] = 3,
        ["fusioncache.failsafe_activate"] = 4,
        ["fusioncache.eager_refresh"] = 5,
        ["fusioncache.backplane.publish"] = 6,
        ["fusioncache.backplane.receive"] = 7,
    };

    private readonly long[] _totals = new long[s_instruments.Count];
    private readonly MeterListener _listener = new();

    private readonly string? _instanceId;

    public CacheTierStatistics(IFusionCache cache)
    {
        _instanceId = cache.InstanceId;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name.StartsWith("ZiggyCreatures.Caching.Fusion", StringComparison.Ordinal)
                && s_instruments.TryGetValue(instrument.Name, out var slot))
            {
                listener.EnableMeasurementEvents(instrument, slot);
            }
        };
        _listener.SetMeasurementEventCallback<long>(OnMeasurement);
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _listener.Start();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private void OnMeasurement(Instrument instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        // Several caches may share a process (tests run two API instances side by side): count only this one.
        foreach (var tag in tags)
        {
            if (tag.Key == InstanceTag && !Equals(tag.Value, _instanceId))
            {
                return;
            }
        }
        Interlocked.Add(ref _totals[(int)state!], value);
    }

    public CacheTierStats Read()
    {
        long At(int slot) => Interlocked.Read(ref _totals[slot]);
        return new CacheTierStats(At(0), At(1), At(2), At(3), At(4), At(5), At(6), At(7));
    }

    public void Dispose() => _listener.Dispose();
}
