using Microsoft.Extensions.Caching.Hybrid;

namespace RecApp.Caching;

/// <summary>
/// Span keys (the base class routes interpolated-string keys here too): an L1 hit is looked up by the characters
/// themselves, so <c>GetOrCreateAsync($"recs:{userId}", ...)</c> allocates no key string on a hit; only a miss
/// materializes it.
/// </summary>
public sealed partial class RedisHybridCache
{
    /// <inheritdoc />
    public override ValueTask<T> GetOrCreateAsync<TState, T>(
        ReadOnlySpan<char> key,
        TState state,
        Func<TState, CancellationToken, ValueTask<T>> factory,
        HybridCacheEntryOptions? options = null,
        IEnumerable<string>? tags = null,
        CancellationToken cancellationToken = default)
    {
        var flags = options?.Flags ?? _options.DefaultFlags;
        if ((flags & HybridCacheEntryFlags.DisableLocalCacheRead) == 0
            && _l1.TryGet(key, out var entry)
            && TryUseLocal<T>(entry, out var value, out var refresh))
        {
            if (refresh && (flags & HybridCacheEntryFlags.DisableUnderlyingData) == 0)
            {
                StartEagerRefresh(entry.Key, state, factory, options, tags, flags);
            }
            return new ValueTask<T>(value);
        }
        return GetOrCreateSlowAsync(key.ToString(), state, factory, options, tags, flags, cancellationToken);
    }
}
