using Microsoft.Extensions.Caching.Hybrid;

namespace RecApp.Tests.Caching;

/// <summary>
/// Some other <see cref="HybridCache"/> (a plain dictionary, no tiers, no tags): for the extensions' fallback paths,
/// which must work on any HybridCache, not only on RedisHybridCache.
/// </summary>
internal sealed class DictionaryHybridCache : HybridCache
{
    private readonly Dictionary<string, object?> _values = [];

    public int Calls { get; private set; }

    public override async ValueTask<T> GetOrCreateAsync<TState, T>(string key, TState state, Func<TState, CancellationToken, ValueTask<T>> factory,
        HybridCacheEntryOptions? options = null, IEnumerable<string>? tags = null, CancellationToken cancellationToken = default)
    {
        Calls++;
        if (_values.TryGetValue(key, out var value))
        {
            return (T)value!;
        }
        var created = await factory(state, cancellationToken);
        _values[key] = created;
        return created;
    }

    public override ValueTask SetAsync<T>(string key, T value, HybridCacheEntryOptions? options = null, IEnumerable<string>? tags = null, CancellationToken cancellationToken = default)
    {
        _values[key] = value;
        return ValueTask.CompletedTask;
    }

    public override ValueTask RemoveAsync(string key, CancellationToken cancellationToken = default)
    {
        _values.Remove(key);
        return ValueTask.CompletedTask;
    }

    public override ValueTask RemoveByTagAsync(string tag, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;
}
