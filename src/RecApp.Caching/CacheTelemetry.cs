using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace RecApp.Caching;

/// <summary>
/// The meter and activity source named <c>RecApp.Caching</c>, plus the plain counters behind
/// <see cref="CacheStatistics"/>. Counting is an interlocked add; instruments cost nothing without a listener.
/// </summary>
internal sealed class CacheTelemetry : IDisposable
{
    public const string Name = "RecApp.Caching";

    public static readonly ActivitySource ActivitySource = new(Name);

    private static readonly KeyValuePair<string, object?> s_tierL1 = new("tier", "l1");
    private static readonly KeyValuePair<string, object?> s_tierL2 = new("tier", "l2");

    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly Counter<long> _hits;
    private readonly Counter<long> _misses;
    private readonly Counter<long> _factoryRuns;
    private readonly Counter<long> _coalesced;
    private readonly Counter<long> _evictions;
    private readonly Counter<long> _l2Errors;
    private readonly Counter<long> _backplaneSent;
    private readonly Counter<long> _backplaneReceived;
    private readonly Histogram<double> _l2Duration;
    private readonly Histogram<double> _factoryDuration;

    public long L1Hits;
    public long L2Hits;
    public long Misses;
    public long FactoryRuns;
    public long Coalesced;
    public long EagerRefreshes;
    public long StaleServed;
    public long Evictions;
    public long L2Errors;
    public long L2Skipped;
    public long BackplaneSent;
    public long BackplaneReceived;

    public CacheTelemetry(IMeterFactory? meterFactory, Func<int> l1Entries, Func<long> l1Bytes, Func<int> breakerState)
    {
        _ownsMeter = meterFactory is null;
        _meter = meterFactory?.Create(new MeterOptions(Name)) ?? new Meter(Name);
        _hits = _meter.CreateCounter<long>("recapp.cache.hits", "{read}", "Reads answered by a cache tier (tag tier = l1 or l2).");
        _misses = _meter.CreateCounter<long>("recapp.cache.misses", "{read}", "Reads no tier answered.");
        _factoryRuns = _meter.CreateCounter<long>("recapp.cache.factory.runs", "{run}", "Factory invocations.");
        _coalesced = _meter.CreateCounter<long>("recapp.cache.coalesced_waiters", "{caller}", "Callers that awaited in-flight work of another caller.");
        _evictions = _meter.CreateCounter<long>("recapp.cache.l1.evictions", "{entry}", "L1 entries evicted by its bounds.");
        _l2Errors = _meter.CreateCounter<long>("recapp.cache.l2.errors", "{call}", "Redis calls that failed or timed out.");
        _backplaneSent = _meter.CreateCounter<long>("recapp.cache.backplane.sent", "{message}", "Invalidation messages published.");
        _backplaneReceived = _meter.CreateCounter<long>("recapp.cache.backplane.received", "{message}", "Invalidation messages received from other instances.");
        _l2Duration = _meter.CreateHistogram<double>("recapp.cache.l2.duration", "ms", "Duration of Redis calls.");
        _factoryDuration = _meter.CreateHistogram<double>("recapp.cache.factory.duration", "ms", "Duration of factory runs.");
        _meter.CreateObservableGauge("recapp.cache.l1.entries", l1Entries, "{entry}", "Entries in L1.");
        _meter.CreateObservableGauge("recapp.cache.l1.bytes", l1Bytes, "By", "Serialized bytes counted in L1.");
        _meter.CreateObservableGauge("recapp.cache.circuit_breaker.state", breakerState, "{state}", "0 closed, 1 open, 2 half-open.");
    }

    public void L1Hit()
    {
        Interlocked.Increment(ref L1Hits);
        if (_hits.Enabled)
        {
            _hits.Add(1, s_tierL1);
        }
    }

    public void L2Hit()
    {
        Interlocked.Increment(ref L2Hits);
        _hits.Add(1, s_tierL2);
    }

    public void Miss()
    {
        Interlocked.Increment(ref Misses);
        _misses.Add(1);
    }

    public void FactoryRun(double milliseconds)
    {
        Interlocked.Increment(ref FactoryRuns);
        _factoryRuns.Add(1);
        _factoryDuration.Record(milliseconds);
    }

    public void CoalescedWaiter()
    {
        Interlocked.Increment(ref Coalesced);
        _coalesced.Add(1);
    }

    public void Evicted(int count)
    {
        Interlocked.Add(ref Evictions, count);
        _evictions.Add(count);
    }

    public void L2Call(string operation, double milliseconds, bool failed)
    {
        if (failed)
        {
            Interlocked.Increment(ref L2Errors);
            _l2Errors.Add(1, new KeyValuePair<string, object?>("operation", operation));
        }
        if (_l2Duration.Enabled)
        {
            _l2Duration.Record(milliseconds, new KeyValuePair<string, object?>("operation", operation));
        }
    }

    public void Sent()
    {
        Interlocked.Increment(ref BackplaneSent);
        _backplaneSent.Add(1);
    }

    public void Received()
    {
        Interlocked.Increment(ref BackplaneReceived);
        _backplaneReceived.Add(1);
    }

    public void Dispose()
    {
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }
}
