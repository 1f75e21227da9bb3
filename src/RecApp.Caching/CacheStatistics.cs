namespace RecApp.Caching;

/// <summary>Counters of one cache instance since it started, for <c>/stats</c> and <c>/admin/cache/stats</c>.</summary>
public interface ICacheStatistics
{
    /// <summary>A consistent-enough snapshot (each counter is read atomically, not all together).</summary>
    CacheStatistics GetStatistics();
}

/// <summary>One snapshot of a cache's counters.</summary>
/// <param name="L1Hits">Reads answered from the in-process tier.</param>
/// <param name="L2Hits">Reads answered from Redis.</param>
/// <param name="Misses">Reads neither tier answered (the factory ran, or default was returned).</param>
/// <param name="HitRate">(L1Hits + L2Hits) / all reads; 0 before the first read.</param>
/// <param name="FactoryRuns">Factory invocations, including background eager refreshes.</param>
/// <param name="CoalescedWaiters">Callers that awaited another caller's in-flight work instead of starting their own.</param>
/// <param name="EagerRefreshes">Background refreshes started because an entry was read late in its life.</param>
/// <param name="StaleServed">Expired values returned because the factory failed (stale-if-error).</param>
/// <param name="L1Entries">Entries now in L1.</param>
/// <param name="L1Bytes">Serialized bytes now counted in L1.</param>
/// <param name="L1Evictions">L1 entries evicted to respect its bounds.</param>
/// <param name="L2Errors">Redis calls that failed or timed out.</param>
/// <param name="L2Skipped">Redis calls skipped because the circuit breaker was open.</param>
/// <param name="CircuitBreaker">"closed", "open" or "half-open".</param>
/// <param name="BackplaneSent">Invalidation messages published to other instances.</param>
/// <param name="BackplaneReceived">Invalidation messages received from other instances.</param>
public sealed record CacheStatistics(
    long L1Hits,
    long L2Hits,
    long Misses,
    double HitRate,
    long FactoryRuns,
    long CoalescedWaiters,
    long EagerRefreshes,
    long StaleServed,
    int L1Entries,
    long L1Bytes,
    long L1Evictions,
    long L2Errors,
    long L2Skipped,
    string CircuitBreaker,
    long BackplaneSent,
    long BackplaneReceived);
