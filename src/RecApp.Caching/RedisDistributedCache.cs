using System.Buffers;
using System.Globalization;
using Microsoft.Extensions.Caching.Distributed;
using StackExchange.Redis;

namespace RecApp.Caching;

/// <summary>
/// <see cref="IDistributedCache"/> over StackExchange.Redis 1.2.6: values are plain Redis strings under
/// <c>KeyPrefix + key</c> with a Redis TTL. Sliding expiration keeps its settings in a small companion key
/// (<c>key#sliding</c>) read in the same round trip, so plain values stay readable by one multi-key <c>MGET</c>.
/// Synchronous members use the client's synchronous calls (never blocking on async work). Unlike the HybridCache,
/// this is a plain distributed cache: Redis errors reach the caller.
/// </summary>
public sealed class RedisDistributedCache : IBufferDistributedCache
{
    private const string SlidingSuffix = "#sliding";
    private readonly IConnectionMultiplexer _redis;
    private readonly TimeProvider _time;

    /// <summary>Creates the cache over a connection the caller owns.</summary>
    public RedisDistributedCache(IConnectionMultiplexer redis, string keyPrefix, TimeProvider? timeProvider = null)
    {
        _redis = redis;
        KeyPrefix = keyPrefix;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>The prefix of every key this cache touches.</summary>
    public string KeyPrefix { get; }

    internal IConnectionMultiplexer Connection => _redis;

    private IDatabase Database => _redis.GetDatabase();

    internal RedisKey Key(string key) => KeyPrefix + key;

    /// <inheritdoc />
    public byte[]? Get(string key)
    {
        var values = Database.StringGet([Key(key), Key(key + SlidingSuffix)]);
        if (values[0].IsNull)
        {
            return null;
        }
        if (!values[1].IsNull)
        {
            _ = SlideAsync(key, values[1]);
        }
        return values[0];
    }

    /// <inheritdoc />
    public async Task<byte[]?> GetAsync(string key, CancellationToken token = default)
    {
        token.ThrowIfCancellationRequested();
        var values = await Database.StringGetAsync([Key(key), Key(key + SlidingSuffix)]).WaitAsync(token);
        if (values[0].IsNull)
        {
            return null;
        }
        if (!values[1].IsNull)
        {
            _ = SlideAsync(key, values[1]);
        }
        return values[0];
    }

    /// <summary>Reads one value without the sliding bookkeeping (the HybridCache path, which uses absolute expiry only).</summary>
    internal async Task<byte[]?> GetRawAsync(string key)
    {
        var value = await Database.StringGetAsync(Key(key));
        return value.IsNull ? null : (byte[]?)value;
    }

    /// <summary>Reads many values in one <c>MGET</c> round trip; a missing key gives null at its position.</summary>
    public async Task<byte[]?[]> GetManyAsync(IReadOnlyList<string> keys, CancellationToken token = default)
    {
        token.ThrowIfCancellationRequested();
        if (keys.Count == 0)
        {
            return [];
        }
        var redisKeys = new RedisKey[keys.Count];
        for (var i = 0; i < keys.Count; i++)
        {
            redisKeys[i] = Key(keys[i]);
        }
        var values = await Database.StringGetAsync(redisKeys).WaitAsync(token);
        var result = new byte[]?[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            result[i] = values[i].IsNull ? null : (byte[]?)values[i];
        }
        return result;
    }

    /// <inheritdoc />
    public void Set(string key, byte[] value, DistributedCacheEntryOptions options)
    {
        var (ttl, sliding) = Lifetime(options);
        var database = Database;
        if (sliding is { } settings)
        {
            database.StringSet(Key(key), value, settings.Ttl);
            database.StringSet(Key(key + SlidingSuffix), settings.Value, settings.Ttl);
            return;
        }
        database.StringSet(Key(key), value, ttl is { } t109 ? new Expiration(t109) : Expiration.Default);
        database.KeyDelete(Key(key + SlidingSuffix));
    }

    /// <summary>The Redis TTL for these options, and the sliding bookkeeping when sliding expiration is used.</summary>
    private (TimeSpan? Ttl, (TimeSpan Ttl, string Value)? Sliding) Lifetime(DistributedCacheEntryOptions options)
    {
        var now = _time.GetUtcNow();
        var absolute = options.AbsoluteExpiration
            ?? (options.AbsoluteExpirationRelativeToNow is { } relative ? now + relative : null);
        if (absolute is { } a && a <= now)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "The absolute expiration is in the past.");
        }
        TimeSpan? ttl = absolute is { } abs ? abs - now : null;
        if (options.SlidingExpiration is not { } sliding)
        {
            return (ttl, null);
        }
        var slidingTtl = ttl is { } t && t < sliding ? t : sliding;
        var settings = string.Create(CultureInfo.InvariantCulture, $"{(long)sliding.TotalMilliseconds}:{absolute?.ToUnixTimeMilliseconds() ?? 0}");
        return (ttl, (slidingTtl, settings));
    }

    /// <inheritdoc />
    public async Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default)
    {
        token.ThrowIfCancellationRequested();
        var (ttl, sliding) = Lifetime(options);
        var database = Database;
        if (sliding is { } settings)
        {
            await Task.WhenAll(
                database.StringSetAsync(Key(key), value, settings.Ttl),
                database.StringSetAsync(Key(key + SlidingSuffix), settings.Value, settings.Ttl)).WaitAsync(token);
            return;
        }
        await Task.WhenAll(
            database.StringSetAsync(Key(key), value, ttl is { } t147 ? new Expiration(t147) : Expiration.Default),
            database.KeyDeleteAsync(Key(key + SlidingSuffix))).WaitAsync(token);
    }

    /// <summary>Writes one value with an absolute time-to-live (the HybridCache path).</summary>
    internal Task SetRawAsync(string key, byte[] value, TimeSpan ttl) => Database.StringSetAsync(Key(key), value, ttl);

    /// <inheritdoc />
    public void Refresh(string key)
    {
        var settings = Database.StringGet(Key(key + SlidingSuffix));
        if (!settings.IsNull)
        {
            _ = SlideAsync(key, settings);
        }
    }

    /// <inheritdoc />
    public async Task RefreshAsync(string key, CancellationToken token = default)
    {
        token.ThrowIfCancellationRequested();
        var settings = await Database.StringGetAsync(Key(key + SlidingSuffix)).WaitAsync(token);
        if (!settings.IsNull)
        {
            await SlideAsync(key, settings);
        }
    }

    private async Task SlideAsync(string key, RedisValue settings)
    {
        var text = (string?)settings ?? "";
        var separator = text.IndexOf(':', StringComparison.Ordinal);
        if (separator <= 0
            || !long.TryParse(text.AsSpan(0, separator), NumberStyles.Integer, CultureInfo.InvariantCulture, out var slidingMs)
            || !long.TryParse(text.AsSpan(separator + 1), NumberStyles.Integer, CultureInfo.InvariantCulture, out var absoluteMs))
        {
            return;
        }
        var ttl = TimeSpan.FromMilliseconds(slidingMs);
        if (absoluteMs > 0)
        {
            var left = DateTimeOffset.FromUnixTimeMilliseconds(absoluteMs) - _time.GetUtcNow();
            if (left < ttl)
            {
                ttl = left;
            }
        }
        if (ttl <= TimeSpan.Zero)
        {
            return;
        }
        try
        {
            var database = Database;
            await Task.WhenAll(database.KeyExpireAsync(Key(key), ttl), database.KeyExpireAsync(Key(key + SlidingSuffix), ttl));
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            // Sliding is best effort: the value keeps its previous TTL.
        }
    }

    /// <inheritdoc />
    public void Remove(string key) => Database.KeyDelete([Key(key), Key(key + SlidingSuffix)]);

    /// <inheritdoc />
    public Task RemoveAsync(string key, CancellationToken token = default)
    {
        token.ThrowIfCancellationRequested();
        return Database.KeyDeleteAsync([Key(key), Key(key + SlidingSuffix)]).WaitAsync(token);
    }

    /// <summary>Removes many keys in one round trip.</summary>
    internal Task RemoveManyAsync(IReadOnlyCollection<string> keys)
    {
        var redisKeys = new RedisKey[keys.Count * 2];
        var i = 0;
        foreach (var key in keys)
        {
            redisKeys[i++] = Key(key);
            redisKeys[i++] = Key(key + SlidingSuffix);
        }
        return Database.KeyDeleteAsync(redisKeys);
    }

    /// <inheritdoc />
    public bool TryGet(string key, IBufferWriter<byte> destination)
    {
        var value = Get(key);
        if (value is null)
        {
            return false;
        }
        destination.Write(value);
        return true;
    }

    /// <inheritdoc />
    public async ValueTask<bool> TryGetAsync(string key, IBufferWriter<byte> destination, CancellationToken token = default)
    {
        var value = await GetAsync(key, token);
        if (value is null)
        {
            return false;
        }
        destination.Write(value);
        return true;
    }

    /// <inheritdoc />
    public void Set(string key, ReadOnlySequence<byte> value, DistributedCacheEntryOptions options) =>
        Set(key, value.ToArray(), options);

    /// <inheritdoc />
    public ValueTask SetAsync(string key, ReadOnlySequence<byte> value, DistributedCacheEntryOptions options, CancellationToken token = default) =>
        new(SetAsync(key, value.ToArray(), options, token));
}
