using Microsoft.Extensions.Caching.Hybrid;

namespace RecApp.Caching;

/// <summary>Where the value of one <c>GetOrCreate</c> call came from.</summary>
public enum CacheReadSource
{
    /// <summary>No value: a miss under <see cref="HybridCacheEntryFlags.DisableUnderlyingData"/> (default was returned).</summary>
    None,

    /// <summary>The in-process tier (L1).</summary>
    LocalCache,

    /// <summary>Redis (L2).</summary>
    DistributedCache,

    /// <summary>A cache tier of another <see cref="HybridCache"/> implementation, which does not say which.</summary>
    Cache,

    /// <summary>The factory ran (this call's, or the one of the call it joined: see <see cref="CacheRead{T}.Coalesced"/>).</summary>
    Factory,

    /// <summary>The factory failed and an expired value was returned instead (stale-if-error).</summary>
    StaleOnError,
}

/// <summary>
/// A value and how this call obtained it: <see cref="Source"/> says where the value came from, <see cref="Coalesced"/>
/// whether this call awaited the in-flight work of another call for the same key instead of doing its own (that
/// work's source is then <see cref="Source"/>).
/// </summary>
public readonly record struct CacheRead<T>(T Value, CacheReadSource Source, bool Coalesced)
{
    /// <summary>
    /// The value came from a cache tier (L1 or Redis), read by this call or by the call it joined; false when a
    /// factory produced it (even another caller's), when a stale value was served, or when there was no value.
    /// </summary>
    public bool IsCacheHit => Source is CacheReadSource.LocalCache or CacheReadSource.DistributedCache or CacheReadSource.Cache;
}

/// <summary>Reads that also say where their value came from (<see cref="CacheRead{T}"/>).</summary>
public static class HybridCacheReadExtensions
{
    /// <summary>
    /// <see cref="HybridCache.GetOrCreateAsync{TState, T}(string, TState, Func{TState, CancellationToken, ValueTask{T}}, HybridCacheEntryOptions?, IEnumerable{string}?, CancellationToken)"/>,
    /// also reporting whether this call was served from a cache tier, ran the factory, or joined another caller's
    /// factory run. Use it instead of a flag set from inside the factory: <paramref name="state"/> (and
    /// <paramref name="tags"/>) may be used again after this call returns, by a background eager refresh, so they must
    /// not be per-request objects that the caller mutates or disposes. With another <see cref="HybridCache"/>, a call
    /// whose own factory did not run reports <see cref="CacheReadSource.Cache"/> (the tier and any coalescing are unknown).
    /// </summary>
    public static ValueTask<CacheRead<T>> GetOrCreateWithSourceAsync<TState, T>(
        this HybridCache cache,
        string key,
        TState state,
        Func<TState, CancellationToken, ValueTask<T>> factory,
        HybridCacheEntryOptions? options = null,
        IEnumerable<string>? tags = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(cache);
        ArgumentNullException.ThrowIfNull(factory);
        return cache is RedisHybridCache ours
            ? ours.GetOrCreateWithSourceCoreAsync(key, state, factory, options, tags, cancellationToken)
            : ObservedAsync(cache, key, state, factory, options, tags, cancellationToken);
    }

    private static async ValueTask<CacheRead<T>> ObservedAsync<TState, T>(
        HybridCache cache, string key, TState state, Func<TState, CancellationToken, ValueTask<T>> factory,
        HybridCacheEntryOptions? options, IEnumerable<string>? tags, CancellationToken cancellationToken)
    {
        var ran = new FactoryRan();
        var value = await cache.GetOrCreateAsync(
            key, (State: state, Factory: factory, Ran: ran),
            static (s, ct) =>
            {
                s.Ran.Value = true;
                return s.Factory(s.State, ct);
            },
            options, tags, cancellationToken);
        return new CacheRead<T>(value, ran.Value ? CacheReadSource.Factory : CacheReadSource.Cache, Coalesced: false);
    }

    /// <summary>Set when this call's factory ran (a foreign cache may run it later again for a refresh: harmless here).</summary>
    internal sealed class FactoryRan
    {
        public volatile bool Value;
    }
}
