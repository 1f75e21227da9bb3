using Microsoft.Extensions.Caching.Hybrid;

namespace RecApp.Caching;

/// <summary>Batch reads over any <see cref="HybridCache"/>, with one Redis round trip when the cache is <see cref="RedisHybridCache"/>.</summary>
public static class HybridCacheBatchExtensions
{
    /// <summary>
    /// Gets or creates the value of every key, in key order. With <see cref="RedisHybridCache"/>: L1 first, then every
    /// L1 miss read from Redis in one <c>MGET</c>, then <paramref name="factory"/> only for what is still missing (each
    /// key stampede-protected). With any other <see cref="HybridCache"/>: one <c>GetOrCreateAsync</c> per key.
    /// Tag checks and flags apply as for single reads; every created entry gets the same <paramref name="tags"/>.
    /// </summary>
    public static async ValueTask<T[]> GetOrCreateManyAsync<TState, T>(
        this HybridCache cache,
        IReadOnlyList<string> keys,
        TState state,
        Func<string, TState, CancellationToken, ValueTask<T>> factory,
        HybridCacheEntryOptions? options = null,
        IEnumerable<string>? tags = null,
        CancellationToken cancellationToken = default)
    {
        var normalized = RedisHybridCache.NormalizeTags(tags);
        var reads = await ManyAsync(cache, keys, state, factory, options, (_, _) => normalized, cancellationToken);
        return Array.ConvertAll(reads, static r => r.Value);
    }

    /// <summary>
    /// As <see cref="GetOrCreateManyAsync{TState, T}(HybridCache, IReadOnlyList{string}, TState, Func{string, TState, CancellationToken, ValueTask{T}}, HybridCacheEntryOptions?, IEnumerable{string}?, CancellationToken)"/>,
    /// with each created entry tagged by <paramref name="tagsOf"/>(key, state): one call does the <c>MGET</c> and the
    /// per-key factory runs with their own tags. <paramref name="tagsOf"/> is called only for keys that are created
    /// (or eagerly refreshed), never for hits.
    /// </summary>
    public static async ValueTask<T[]> GetOrCreateManyAsync<TState, T>(
        this HybridCache cache,
        IReadOnlyList<string> keys,
        TState state,
        Func<string, TState, CancellationToken, ValueTask<T>> factory,
        Func<string, TState, IEnumerable<string>> tagsOf,
        HybridCacheEntryOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        var reads = await GetOrCreateManyWithSourceAsync(cache, keys, state, factory, tagsOf, options, cancellationToken);
        return Array.ConvertAll(reads, static r => r.Value);
    }

    /// <summary>
    /// The per-key-tags batch read, reporting for each key where its value came from (<see cref="CacheRead{T}"/>, as
    /// <see cref="HybridCacheReadExtensions.GetOrCreateWithSourceAsync"/> does for one key). <paramref name="tagsOf"/>
    /// null: entries are created without tags.
    /// </summary>
    public static ValueTask<CacheRead<T>[]> GetOrCreateManyWithSourceAsync<TState, T>(
        this HybridCache cache,
        IReadOnlyList<string> keys,
        TState state,
        Func<string, TState, CancellationToken, ValueTask<T>> factory,
        Func<string, TState, IEnumerable<string>>? tagsOf,
        HybridCacheEntryOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        Func<string, TState, string[]> normalized = tagsOf is null
            ? static (_, _) => []
            : (key, s) => RedisHybridCache.NormalizeTags(tagsOf(key, s));
        return ManyAsync(cache, keys, state, factory, options, normalized, cancellationToken);
    }

    private static ValueTask<CacheRead<T>[]> ManyAsync<TState, T>(
        HybridCache cache, IReadOnlyList<string> keys, TState state, Func<string, TState, CancellationToken, ValueTask<T>> factory,
        HybridCacheEntryOptions? options, Func<string, TState, string[]> tagsOf, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(cache);
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(factory);
        return cache is RedisHybridCache ours
            ? ours.GetOrCreateManyCoreAsync(keys, state, factory, options, tagsOf, cancellationToken)
            : PerKeyAsync(cache, keys, state, factory, options, tagsOf, cancellationToken);
    }

    private static async ValueTask<CacheRead<T>[]> PerKeyAsync<TState, T>(
        HybridCache cache, IReadOnlyList<string> keys, TState state, Func<string, TState, CancellationToken, ValueTask<T>> factory,
        HybridCacheEntryOptions? options, Func<string, TState, string[]> tagsOf, CancellationToken cancellationToken)
    {
        var pending = new Task<CacheRead<T>>[keys.Count];
        for (var i = 0; i < keys.Count; i++)
        {
            pending[i] = cache.GetOrCreateWithSourceAsync(
                keys[i], (Key: keys[i], State: state, Factory: factory),
                static (s, ct) => s.Factory(s.Key, s.State, ct), options, tagsOf(keys[i], state), cancellationToken).AsTask();
        }
        return await Task.WhenAll(pending);
    }
}
