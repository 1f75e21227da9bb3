using Microsoft.Extensions.Caching.Hybrid;

namespace RecApp.Caching;

/// <summary>Batch reads over any <see cref="HybridCache"/>, with one Redis round trip when the cache is <see cref="RedisHybridCache"/>.</summary>
public static class HybridCacheBatchExtensions
{
    /// <summary>
    /// Gets or creates the value of every key, in key order. With <see cref="RedisHybridCache"/>: L1 first, then every
    /// L1 miss read from Redis in one <c>MGET</c>, then <paramref name="factory"/> only for what is still missing (each
    /// key stampede-protected). With any other <see cref="HybridCache"/>: one <c>GetOrCreateAsync</c> per key.
    /// Tag checks and flags apply as for single reads.
    /// </summary>
    public static ValueTask<T[]> GetOrCreateManyAsync<TState, T>(
        this HybridCache cache,
        IReadOnlyList<string> keys,
        TState state,
        Func<string, TState, CancellationToken, ValueTask<T>> factory,
        HybridCacheEntryOptions? options = null,
        IEnumerable<string>? tags = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(cache);
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(factory);
        return cache is RedisHybridCache ours
            ? ours.GetOrCreateManyCoreAsync(keys, state, factory, options, tags, cancellationToken)
            : PerKeyAsync(cache, keys, state, factory, options, tags, cancellationToken);
    }

    private static async ValueTask<T[]> PerKeyAsync<TState, T>(
        HybridCache cache, IReadOnlyList<string> keys, TState state, Func<string, TState, CancellationToken, ValueTask<T>> factory,
        HybridCacheEntryOptions? options, IEnumerable<string>? tags, CancellationToken cancellationToken)
    {
        var tagList = tags?.ToArray();
        var pending = new Task<T>[keys.Count];
        for (var i = 0; i < keys.Count; i++)
        {
            pending[i] = cache.GetOrCreateAsync(
                keys[i], (Key: keys[i], State: state, Factory: factory),
                static (s, ct) => s.Factory(s.Key, s.State, ct), options, tagList, cancellationToken).AsTask();
        }
        return await Task.WhenAll(pending);
    }
}
