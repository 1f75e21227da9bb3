using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace RecApp.Caching;

/// <summary>
/// A <see cref="HybridCache"/> with a bounded in-process L1 (LRU), Redis as L2, per-key stampede protection,
/// tag invalidation stored in Redis, a pub/sub backplane that evicts other instances' L1 copies, and fail-safe
/// behavior while Redis is down or slow (timeouts, circuit breaker, optional stale-if-error). Register it with
/// <c>AddRedisHybridCache()</c>; application code depends on <see cref="HybridCache"/> only.
/// </summary>
public sealed partial class RedisHybridCache : HybridCache, ICacheStatistics, IDisposable
{
    private readonly RedisHybridCacheOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly LocalCache _l1;
    private readonly DistributedTier _l2;
    private readonly TagStore _tags;
    private readonly Backplane? _backplane;
    private readonly CacheTelemetry _telemetry;
    private readonly CircuitBreaker _breaker;
    private readonly SerializerRegistry _serializers;
    private readonly IConnectionMultiplexer _redis;
    private readonly ConcurrentDictionary<string, Flight> _flights = new(StringComparer.Ordinal);
    private readonly RecoveryQueue _recovery;
    private readonly long _eagerRefreshWindowPermille;
    private int _disposed;

    /// <summary>Creates the cache; normally done by <c>AddRedisHybridCache()</c>.</summary>
    public RedisHybridCache(
        IOptions<RedisHybridCacheOptions> options,
        RedisDistributedCache distributedCache,
        IServiceProvider services,
        ILogger<RedisHybridCache>? logger = null,
        TimeProvider? timeProvider = null,
        IMeterFactory? meterFactory = null)
    {
        _options = options.Value;
        Validate(_options);
        _time = timeProvider ?? TimeProvider.System;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _redis = distributedCache.Connection;
        _l1 = new LocalCache(_options.MaximumLocalEntries, _options.MaximumLocalBytes, count => _telemetry!.Evicted(count));
        _breaker = new CircuitBreaker(_options.CircuitBreakerFailureThreshold, _options.CircuitBreakerDuration, _time);
        _telemetry = new CacheTelemetry(meterFactory, () => _l1.Count, () => _l1.Bytes, () => _breaker.State);
        _l2 = new DistributedTier(distributedCache, _breaker, _telemetry, _options.DistributedCacheTimeout, _logger);
        _tags = new TagStore(_l2, _time, _options.TagCacheDuration, _options.TagRetention);
        _serializers = new SerializerRegistry(services, _options.JsonSerializerOptions);
        _eagerRefreshWindowPermille = (long)Math.Round(_options.EagerRefreshWindow * 1000);
        _recovery = new RecoveryQueue(_options.RecoveryQueueLimit);
        _l2.AfterSuccess = () =>
        {
            if (_recovery.HasPending)
            {
                _ = Task.Run(_recovery.ReplayAsync);
            }
        };
        _breaker.Opened += () => CacheLog.BreakerOpened(_logger, _options.CircuitBreakerDuration);
        _breaker.Healed += OnRedisHealed;
        _redis.ConnectionRestored += OnConnectionRestored;
        if (_options.EnableBackplane)
        {
            _backplane = new Backplane(_redis, distributedCache.KeyPrefix, _l2, _telemetry, _logger, OnBackplaneMessage);
            _ = _backplane.SubscribeAsync();
        }
    }

    /// <summary>Whether the backplane subscription is in place (false while Redis is unreachable).</summary>
    public bool IsBackplaneSubscribed => _backplane?.IsSubscribed ?? false;

    /// <summary>Waits until the backplane subscription is in place (for start-up ordering and tests).</summary>
    public async Task EnsureBackplaneSubscribedAsync()
    {
        if (_backplane is { IsSubscribed: false } backplane)
        {
            await backplane.SubscribeAsync();
        }
    }

    private long Now => _time.GetUtcNow().UtcTicks;

    /// <inheritdoc />
    public override ValueTask<T> GetOrCreateAsync<TState, T>(
        string key,
        TState state,
        Func<TState, CancellationToken, ValueTask<T>> factory,
        HybridCacheEntryOptions? options = null,
        IEnumerable<string>? tags = null,
        CancellationToken cancellationToken = default)
    {
        var flags = options?.Flags ?? _options.DefaultFlags;
        if ((flags & HybridCacheEntryFlags.DisableLocalCacheRead) == 0 && TryGetLocal<T>(key, out var value, out var refresh))
        {
            if (refresh && (flags & HybridCacheEntryFlags.DisableUnderlyingData) == 0)
            {
                StartEagerRefresh(key, state, factory, options, tags, flags);
            }
            return new ValueTask<T>(value);
        }
        return GetOrCreateSlowAsync(key, state, factory, options, tags, flags, cancellationToken);
    }

    /// <summary>
    /// The L1 fast path: no allocation for immutable values. <paramref name="refresh"/> says the entry is in its
    /// eager-refresh window and nobody has started that refresh yet (this caller just claimed it).
    /// </summary>
    private bool TryGetLocal<T>(string key, out T value, out bool refresh)
    {
        if (_l1.TryGet(key, out var entry))
        {
            return TryUseLocal(entry, out value, out refresh);
        }
        value = default!;
        refresh = false;
        return false;
    }

    /// <summary>
    /// Serves an L1 entry when it is of this type, unexpired and not invalidated by a tag (counting the hit);
    /// <paramref name="refresh"/> says it is in its eager-refresh window and this caller claimed that refresh.
    /// </summary>
    private bool TryUseLocal<T>(CacheEntry entry, out T value, out bool refresh)
    {
        if (Fresh<T>(entry, out var now))
        {
            value = ValueOf<T>(entry);
            _telemetry.L1Hit();
            refresh = now >= entry.RefreshAtTicks && Interlocked.Exchange(ref entry.RefreshStarted, 1) == 0;
            return true;
        }
        value = default!;
        refresh = false;
        return false;
    }

    /// <summary>The L1 entry for the key when it is there, of this type, unexpired and not invalidated by a tag.</summary>
    private CacheEntry? FreshLocal<T>(string key) => _l1.TryGet(key, out var entry) && Fresh<T>(entry, out _) ? entry : null;

    private bool Fresh<T>(CacheEntry entry, out long now)
    {
        now = 0;
        if (entry.ValueType != typeof(T))
        {
            return false;
        }
        now = Now;
        if (now >= entry.LocalExpiresTicks)
        {
            if (now >= entry.RetainUntilTicks)
            {
                _l1.Remove(entry);
            }
            return false;
        }
        if (_tags.IsStale(entry.Tags, entry.CreatedTicks, now))
        {
            _l1.Remove(entry);
            return false;
        }
        return true;
    }

    private T ValueOf<T>(CacheEntry entry) => ImmutableType<T>.Is || entry.Payload is null ? (T)entry.Value! : Deserialize<T>(entry);

    private T Deserialize<T>(CacheEntry entry) =>
        _serializers.Get<T>().Deserialize(new ReadOnlySequence<byte>(entry.Payload!, entry.PayloadOffset, entry.PayloadLength));

    private async ValueTask<T> GetOrCreateSlowAsync<TState, T>(
        string key, TState state, Func<TState, CancellationToken, ValueTask<T>> factory,
        HybridCacheEntryOptions? options, IEnumerable<string>? tags, HybridCacheEntryFlags flags, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (!IsCacheableKey(key))
        {
            _telemetry.Miss();
            return (flags & HybridCacheEntryFlags.DisableUnderlyingData) != 0 ? default! : await factory(state, cancellationToken);
        }
        var tagArray = NormalizeTags(tags);
        return await ViaFlightAsync(key, state, factory, options, tagArray, flags, FlightMode.Read, cancellationToken);
    }

    private bool IsCacheableKey(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Length > _options.MaximumKeyLength)
        {
            CacheLog.KeyTooLong(_logger, key.Length);
            return false;
        }
        return true;
    }

    private static string[] NormalizeTags(IEnumerable<string>? tags)
    {
        if (tags is null)
        {
            return [];
        }
        var array = tags as string[] ?? tags.ToArray();
        foreach (var tag in array)
        {
            if (string.IsNullOrEmpty(tag))
            {
                throw new ArgumentException("Tags must be non-empty strings.", nameof(tags));
            }
        }
        return array.Length > 1 ? array.Distinct(StringComparer.Ordinal).ToArray() : array;
    }

    /// <summary>
    /// Joins the in-flight work for the key or starts it (stampede protection). The work runs under its own
    /// cancellation, cancelled only when every caller waiting on it has gone.
    /// </summary>
    private async ValueTask<T> ViaFlightAsync<TState, T>(
        string key, TState state, Func<TState, CancellationToken, ValueTask<T>> factory,
        HybridCacheEntryOptions? options, string[] tags, HybridCacheEntryFlags flags, FlightMode mode, CancellationToken cancellationToken)
    {
        Flight<T> flight;
        var leader = false;
        while (true)
        {
            if (_flights.TryGetValue(key, out var existing))
            {
                if (existing is Flight<T> typed)
                {
                    if (typed.TryJoin())
                    {
                        flight = typed;
                        _telemetry.CoalescedWaiter();
                        break;
                    }
                    _flights.TryRemove(new KeyValuePair<string, Flight>(key, existing));
                    continue;
                }
                // The same key asked for as another type: no sharing, and nothing registered.
                flight = new Flight<T>(key, registered: false) { StartedTicks = Now };
                leader = true;
                break;
            }
            var created = new Flight<T>(key, registered: true) { StartedTicks = Now };
            if (_flights.TryAdd(key, created))
            {
                flight = created;
                leader = true;
                break;
            }
        }
        if (leader)
        {
            _ = RunFlightAsync(flight, state, factory, options, tags, flags, mode);
        }
        FlightResult<T> result;
        try
        {
            result = await flight.Completion.Task.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested && !flight.Completion.Task.IsCompleted)
        {
            flight.Leave(_flights);
            throw;
        }
        switch (result.Source)
        {
            case ValueSource.L1:
                _telemetry.L1Hit();
                break;
            case ValueSource.L2:
                _telemetry.L2Hit();
                break;
            default:
                _telemetry.Miss();
                break;
        }
        return leader || ImmutableType<T>.Is || result.Entry?.Payload is null ? result.Value : Deserialize<T>(result.Entry);
    }

    private async Task RunFlightAsync<TState, T>(
        Flight<T> flight, TState state, Func<TState, CancellationToken, ValueTask<T>> factory,
        HybridCacheEntryOptions? options, string[] tags, HybridCacheEntryFlags flags, FlightMode mode)
    {
        try
        {
            // A caller that missed L1 just before the previous flight for this key stored its value lands here:
            // look again so it gets that value instead of running the factory a second time.
            if (mode != FlightMode.Refresh && (flags & HybridCacheEntryFlags.DisableLocalCacheRead) == 0 && FreshLocal<T>(flight.Key) is { } local)
            {
                flight.Complete(_flights, new FlightResult<T>(ValueOf<T>(local), local, ValueSource.L1));
                return;
            }
            CacheEntry? stale = null;
            if (mode == FlightMode.Read && (flags & HybridCacheEntryFlags.DisableDistributedCacheRead) == 0)
            {
                var (done, bytes) = await _l2.RunAsync("get", flight.Key, static (redis, key) => redis.GetRawAsync(key));
                if (done && bytes is not null)
                {
                    var read = await ReadPayloadAsync<T>(flight.Key, bytes, options);
                    if (read.Entry is { } entry)
                    {
                        if ((flags & HybridCacheEntryFlags.DisableLocalCacheWrite) == 0)
                        {
                            _l1.Set(entry);
                        }
                        flight.Complete(_flights, new FlightResult<T>(read.Value, entry, ValueSource.L2));
                        return;
                    }
                    stale = read.Stale;
                }
            }
            if ((flags & HybridCacheEntryFlags.DisableUnderlyingData) != 0)
            {
                flight.Complete(_flights, new FlightResult<T>(default!, null, ValueSource.None));
                return;
            }
            T value;
            try
            {
                value = await RunFactoryAsync(flight.Key, state, factory, flight.Cancellation.Token);
            }
            catch (Exception ex) when (!flight.Cancellation.IsCancellationRequested && TryGetStale(flight.Key, stale, out var staleEntry))
            {
                CacheLog.ServingStale(_logger, flight.Key, TimeSpan.FromTicks(Now - staleEntry.CreatedTicks), ex);
                Interlocked.Increment(ref _telemetry.StaleServed);
                var staleValue = ValueOf<T>(staleEntry);
                flight.Complete(_flights, new FlightResult<T>(staleValue, staleEntry, ValueSource.Stale));
                return;
            }
            // Set or removed meanwhile: the caller gets what it asked for, the cache keeps the newer state.
            var stored = flight.Superseded ? null : await StoreAsync(flight.Key, value, options, tags, flags, flight.StartedTicks);
            flight.Complete(_flights, new FlightResult<T>(value, stored, ValueSource.Factory));
        }
        catch (Exception ex)
        {
            flight.Fail(_flights, ex);
        }
    }

    private async ValueTask<T> RunFactoryAsync<TState, T>(
        string key, TState state, Func<TState, CancellationToken, ValueTask<T>> factory, CancellationToken cancellationToken)
    {
        using var activity = CacheTelemetry.ActivitySource.StartActivity("cache factory");
        activity?.SetTag("cache.key", key);
        var started = Stopwatch.GetTimestamp();
        try
        {
            return await factory(state, cancellationToken);
        }
        catch (Exception ex)
        {
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            throw;
        }
        finally
        {
            _telemetry.FactoryRun(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
    }

    /// <summary>An expired copy still young enough for stale-if-error, from L1 or from the L2 read just made.</summary>
    private bool TryGetStale(string key, CacheEntry? fromL2, out CacheEntry stale)
    {
        stale = null!;
        if (_options.StaleIfErrorMaximumAge is not { } maximumAge)
        {
            return false;
        }
        var now = Now;
        foreach (var candidate in new[] { _l1.TryPeek(key, out var local) ? local : null, fromL2 })
        {
            if (candidate is not null
                && now - candidate.CreatedTicks <= maximumAge.Ticks
                && !_tags.IsStale(candidate.Tags, candidate.CreatedTicks, now))
            {
                stale = candidate;
                return true;
            }
        }
        return false;
    }

    /// <summary>Parses an L2 payload into an L1 entry; corrupt, foreign or tag-invalidated payloads are a miss.</summary>
    private async ValueTask<L2Read<T>> ReadPayloadAsync<T>(string key, byte[] bytes, HybridCacheEntryOptions? options)
    {
        if (!CachePayload.TryRead(bytes, out var header, out var reason))
        {
            CacheLog.PayloadRejected(_logger, key, reason, null);
            return default;
        }
        T value;
        try
        {
            value = _serializers.Get<T>().Deserialize(new ReadOnlySequence<byte>(header.Value, header.ValueOffset, header.ValueLength));
        }
        catch (Exception ex)
        {
            CacheLog.PayloadRejected(_logger, key, "the value does not deserialize as " + typeof(T).Name, ex);
            return default;
        }
        if (await _tags.IsStaleAsync(header.Tags, header.CreatedTicks))
        {
            return default;
        }
        var now = Now;
        var local = options?.LocalCacheExpiration ?? _options.LocalCacheExpiration ?? TimeSpan.FromTicks(header.ExpiresTicks - now);
        var localExpires = Math.Min(now + Math.Max(local.Ticks, 0), header.ExpiresTicks);
        var entry = CreateEntry(
            key, value, header.Value, header.ValueOffset, header.ValueLength,
            header.CreatedTicks, header.ExpiresTicks, localExpires, header.Tags);
        return now < header.ExpiresTicks ? new L2Read<T>(value, entry, null) : new L2Read<T>(default!, null, entry);
    }

    private CacheEntry CreateEntry<T>(
        string key, T value, byte[]? payload, int offset, int length, long created, long expires, long localExpires, string[] tags)
    {
        var immutable = ImmutableType<T>.Is;
        var retainUntil = _options.StaleIfErrorMaximumAge is { } maximumAge
            ? Math.Max(localExpires, created + maximumAge.Ticks)
            : localExpires;
        var refreshAt = _eagerRefreshWindowPermille > 0
            ? expires - ((expires - created) * _eagerRefreshWindowPermille / 1000)
            : long.MaxValue;
        return new CacheEntry(
            key, typeof(T), immutable || payload is null ? value : null, immutable ? null : payload, offset, length,
            created, expires, localExpires, retainUntil, refreshAt, tags);
    }

    /// <summary>Writes a value to L1 and L2 as the flags allow; returns the L1 entry (null when nothing could be kept).</summary>
    private async ValueTask<CacheEntry?> StoreAsync<T>(
        string key, T value, HybridCacheEntryOptions? options, string[] tags, HybridCacheEntryFlags flags, long? createdTicks = null, bool recoverable = false)
    {
        var writeL1 = (flags & HybridCacheEntryFlags.DisableLocalCacheWrite) == 0;
        var writeL2 = (flags & HybridCacheEntryFlags.DisableDistributedCacheWrite) == 0;
        if (!writeL1 && !writeL2)
        {
            return null;
        }
        var now = Now;
        // A factory's value is as old as the moment its work started: a tag invalidated while it ran applies to it.
        var created = createdTicks ?? now;
        var expiration = options?.Expiration ?? _options.Expiration;
        if (expiration > _options.TagRetention)
        {
            expiration = _options.TagRetention;
        }
        var local = options?.LocalCacheExpiration ?? _options.LocalCacheExpiration ?? expiration;
        if (local > expiration)
        {
            local = expiration;
        }
        var jitter = Jitter();
        var expires = now + (long)(expiration.Ticks * jitter);
        var localExpires = now + (long)(local.Ticks * jitter);
        var immutable = ImmutableType<T>.Is;

        byte[]? payload = null;
        int offset = 0, length = 0;
        byte[]? l2Bytes = null;
        if (writeL2 || !immutable)
        {
            using var buffer = new PooledBufferWriter();
            try
            {
                _serializers.Get<T>().Serialize(value, buffer);
            }
            catch (Exception ex)
            {
                CacheLog.SerializeFailed(_logger, key, ex);
                return null;
            }
            length = buffer.WrittenCount;
            if (writeL2 && length <= _options.MaximumPayloadBytes)
            {
                var compress = _options.CompressionThresholdBytes > 0 && length >= _options.CompressionThresholdBytes
                    && (flags & HybridCacheEntryFlags.DisableCompression) == 0;
                l2Bytes = CachePayload.Write(buffer.WrittenSpan, created, expires, tags, compress, out offset);
                payload = CachePayload.IsCompressed(l2Bytes) ? null : l2Bytes;
            }
            else if (writeL2)
            {
                CacheLog.PayloadTooLarge(_logger, key, length);
            }
            if (payload is null && !immutable)
            {
                payload = buffer.WrittenSpan.ToArray();
                offset = 0;
            }
        }
        CacheEntry? entry = null;
        if (writeL1)
        {
            entry = CreateEntry(key, value, payload, offset, length, created, expires, localExpires, tags);
            _l1.Set(entry);
        }
        else
        {
            _l1.Remove(key);
        }
        if (l2Bytes is not null)
        {
            var ttl = TimeSpan.FromTicks(expires - now);
            if (_options.StaleIfErrorMaximumAge is { } maximumAge && maximumAge > ttl)
            {
                ttl = maximumAge;
            }
            var written = await _l2.RunAsync("set", (key, l2Bytes, ttl), static (redis, state) => redis.SetRawAsync(state.key, state.l2Bytes, state.ttl));
            if (recoverable && !written)
            {
                var expiresAt = now + ttl.Ticks;
                Recover("key:" + key, async () =>
                {
                    var left = TimeSpan.FromTicks(expiresAt - Now);
                    var done = left > TimeSpan.Zero
                        ? await _l2.RunAsync("set", (key, l2Bytes, left), static (redis, state) => redis.SetRawAsync(state.key, state.l2Bytes, state.left))
                        : await _l2.RunAsync("remove", new[] { key }, static (redis, keys) => redis.RemoveManyAsync(keys));
                    return done && await PublishAsync(BackplaneMessageKind.EvictKeys, Now, [key]);
                });
            }
        }
        return entry ?? (immutable ? null : CreateEntry(key, value, payload, offset, length, created, expires, localExpires, tags));
    }

    private double Jitter()
    {
        var percent = _options.JitterPercent;
        return percent <= 0 ? 1 : 1 + (((Random.Shared.NextDouble() * 2) - 1) * percent / 100);
    }

    private void StartEagerRefresh<TState, T>(
        string key, TState state, Func<TState, CancellationToken, ValueTask<T>> factory,
        HybridCacheEntryOptions? options, IEnumerable<string>? tags, HybridCacheEntryFlags flags)
    {
        Interlocked.Increment(ref _telemetry.EagerRefreshes);
        var tagArray = NormalizeTags(tags);
        _ = Task.Run(async () =>
        {
            try
            {
                // Skips the L2 read: the point is a new value from the source before this one expires.
                await ViaFlightAsync(key, state, factory, options, tagArray, flags, FlightMode.Refresh, CancellationToken.None);
            }
            catch (Exception ex)
            {
                CacheLog.EagerRefreshFailed(_logger, key, ex);
            }
        });
    }

    /// <inheritdoc />
    public override async ValueTask SetAsync<T>(
        string key, T value, HybridCacheEntryOptions? options = null, IEnumerable<string>? tags = null, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (!IsCacheableKey(key))
        {
            return;
        }
        var flags = options?.Flags ?? _options.DefaultFlags;
        MarkSuperseded(key);
        await StoreAsync(key, value, options, NormalizeTags(tags), flags, recoverable: true);
        await PublishAsync(BackplaneMessageKind.EvictKeys, Now, [key]);
    }

    /// <inheritdoc />
    public override ValueTask RemoveAsync(string key, CancellationToken cancellationToken = default) =>
        RemoveAsync([key], cancellationToken);

    /// <inheritdoc />
    public override async ValueTask RemoveAsync(IEnumerable<string> keys, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var list = keys.Distinct(StringComparer.Ordinal).ToArray();
        if (list.Length == 0)
        {
            return;
        }
        foreach (var key in list)
        {
            MarkSuperseded(key);
            _l1.Remove(key);
        }
        var removed = await _l2.RunAsync("remove", list, static (redis, keys) => redis.RemoveManyAsync(keys));
        var published = await PublishAsync(BackplaneMessageKind.EvictKeys, Now, list);
        if (!removed || !published)
        {
            foreach (var key in list)
            {
                Recover("key:" + key, async () =>
                    await _l2.RunAsync("remove", new[] { key }, static (redis, keys) => redis.RemoveManyAsync(keys))
                    && await PublishAsync(BackplaneMessageKind.EvictKeys, Now, [key]));
            }
        }
    }

    /// <inheritdoc />
    public override ValueTask RemoveByTagAsync(string tag, CancellationToken cancellationToken = default) =>
        RemoveByTagAsync([tag], cancellationToken);

    /// <summary>
    /// Invalidates every entry carrying any of these tags and created before this call, on every instance;
    /// <c>"*"</c> invalidates every entry.
    /// </summary>
    public override async ValueTask RemoveByTagAsync(IEnumerable<string> tags, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var list = NormalizeTags(tags);
        if (list.Length == 0)
        {
            return;
        }
        var ticks = Now;
        var stored = await _tags.InvalidateAsync(list, ticks);
        if (list.Contains(TagStore.All))
        {
            _l1.Clear();
        }
        var published = await PublishAsync(BackplaneMessageKind.InvalidateTags, ticks, list);
        if (!stored || !published)
        {
            foreach (var tag in list)
            {
                Recover("tag:" + tag, async () =>
                    await _tags.InvalidateAsync([tag], ticks) && await PublishAsync(BackplaneMessageKind.InvalidateTags, ticks, [tag]));
            }
        }
    }

    private ValueTask<bool> PublishAsync(BackplaneMessageKind kind, long ticks, IReadOnlyList<string> items) =>
        _backplane?.PublishAsync(kind, ticks, items) ?? ValueTask.FromResult(true);

    private void MarkSuperseded(string key)
    {
        if (_flights.TryGetValue(key, out var flight))
        {
            flight.Superseded = true;
        }
    }

    private void Recover(string id, Func<ValueTask<bool>> replay)
    {
        if (!_recovery.Add(id, replay))
        {
            CacheLog.RecoveryQueueFull(_logger, id);
        }
    }

    private void OnBackplaneMessage(BackplaneMessageKind kind, long ticks, string[] items)
    {
        switch (kind)
        {
            case BackplaneMessageKind.EvictKeys:
                foreach (var key in items)
                {
                    MarkSuperseded(key);
                    _l1.Remove(key);
                }
                break;
            case BackplaneMessageKind.InvalidateTags:
                foreach (var tag in items)
                {
                    _tags.OnRemoteInvalidation(tag, ticks);
                    if (tag == TagStore.All)
                    {
                        _l1.Clear();
                    }
                }
                break;
        }
    }

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e)
    {
        _breaker.Reset();
        _ = Task.Run(ResynchronizeAsync);
    }

    private void OnRedisHealed()
    {
        CacheLog.BreakerClosed(_logger);
        _ = Task.Run(_backplane is { IsSubscribed: false } ? ResynchronizeAsync : _recovery.ReplayAsync);
    }

    /// <summary>After an outage: messages sent meanwhile were missed, so local knowledge is dropped and the subscription renewed.</summary>
    private async Task ResynchronizeAsync()
    {
        if (Volatile.Read(ref _disposed) == 1)
        {
            return;
        }
        // Changes made here during the outage go to Redis first, so reloading tag times below includes them.
        await _recovery.ReplayAsync();
        if (_options.ClearLocalCacheOnReconnect)
        {
            _l1.Clear();
            _tags.Clear();
        }
        if (_backplane is not null)
        {
            await _backplane.SubscribeAsync();
        }
        CacheLog.Reconnected(_logger);
    }

    /// <inheritdoc />
    public CacheStatistics GetStatistics()
    {
        var l1 = Interlocked.Read(ref _telemetry.L1Hits);
        var l2 = Interlocked.Read(ref _telemetry.L2Hits);
        var misses = Interlocked.Read(ref _telemetry.Misses);
        var reads = l1 + l2 + misses;
        return new CacheStatistics(
            l1, l2, misses, reads == 0 ? 0 : (double)(l1 + l2) / reads,
            Interlocked.Read(ref _telemetry.FactoryRuns),
            Interlocked.Read(ref _telemetry.Coalesced),
            Interlocked.Read(ref _telemetry.EagerRefreshes),
            Interlocked.Read(ref _telemetry.StaleServed),
            _l1.Count,
            _l1.Bytes,
            Interlocked.Read(ref _telemetry.Evictions),
            Interlocked.Read(ref _telemetry.L2Errors),
            Interlocked.Read(ref _telemetry.L2Skipped),
            _breaker.StateName,
            Interlocked.Read(ref _telemetry.BackplaneSent),
            Interlocked.Read(ref _telemetry.BackplaneReceived));
    }

    /// <summary>Loads in progress (tests and diagnostics).</summary>
    internal int InFlight => _flights.Count;

    /// <summary>Changes waiting for Redis to come back (tests and diagnostics).</summary>
    internal int PendingRecoveries => _recovery.Count;

    /// <summary>The L1 entry for a key without touching recency (tests and diagnostics).</summary>
    internal CacheEntry? PeekLocal(string key) => _l1.TryPeek(key, out var entry) ? entry : null;

    /// <inheritdoc />
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        _redis.ConnectionRestored -= OnConnectionRestored;
        _backplane?.Dispose();
        _telemetry.Dispose();
        _l1.Clear();
    }

    private static void Validate(RedisHybridCacheOptions options)
    {
        if (options.MaximumLocalEntries < 1)
        {
            throw new OptionsValidationException(nameof(RedisHybridCacheOptions), typeof(RedisHybridCacheOptions), ["Caching:MaximumLocalEntries must be at least 1."]);
        }
        if (options.Expiration <= TimeSpan.Zero)
        {
            throw new OptionsValidationException(nameof(RedisHybridCacheOptions), typeof(RedisHybridCacheOptions), ["Caching:Expiration must be positive."]);
        }
        if (options.JitterPercent is < 0 or >= 100 || options.EagerRefreshWindow is < 0 or >= 1)
        {
            throw new OptionsValidationException(nameof(RedisHybridCacheOptions), typeof(RedisHybridCacheOptions),
                ["Caching:JitterPercent must be in [0, 100) and Caching:EagerRefreshWindow in [0, 1)."]);
        }
    }

    /// <summary>What a flight does before the factory.</summary>
    private enum FlightMode
    {
        /// <summary>Look at L1 again, then read L2.</summary>
        Read,

        /// <summary>Look at L1 again; L2 was just read by the batch.</summary>
        AfterBatchRead,

        /// <summary>Eager refresh: straight to the factory.</summary>
        Refresh,
    }

    private enum ValueSource
    {
        None,
        L1,
        L2,
        Factory,
        Stale,
    }

    private readonly record struct FlightResult<T>(T Value, CacheEntry? Entry, ValueSource Source);

    private readonly record struct L2Read<T>(T Value, CacheEntry? Entry, CacheEntry? Stale);

    private abstract class Flight(string key, bool registered)
    {
        private volatile bool _superseded;

        public string Key { get; } = key;

        /// <summary>UTC ticks when the work started: the creation time of what the factory returns.</summary>
        public long StartedTicks { get; init; }

        /// <summary>Set when the key was set or removed while the work ran: its result is then not stored.</summary>
        public bool Superseded
        {
            get => _superseded;
            set => _superseded = value;
        }

        protected bool Registered { get; } = registered;
    }

    /// <summary>One in-flight load of a key, shared by every caller that asks for it meanwhile.</summary>
    private sealed class Flight<T>(string key, bool registered) : Flight(key, registered)
    {
        private readonly Lock _gate = new();
        private int _waiters = 1;
        private bool _finished;

        public TaskCompletionSource<FlightResult<T>> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public CancellationTokenSource Cancellation { get; } = new();

        public bool TryJoin()
        {
            lock (_gate)
            {
                if (_finished)
                {
                    return false;
                }
                _waiters++;
                return true;
            }
        }

        /// <summary>A caller gave up; the last one to go cancels the work.</summary>
        public void Leave(ConcurrentDictionary<string, Flight> flights)
        {
            lock (_gate)
            {
                if (_finished || --_waiters > 0)
                {
                    return;
                }
                _finished = true;
            }
            Unregister(flights);
            Cancellation.Cancel();
            Completion.TrySetCanceled(Cancellation.Token);
        }

        public void Complete(ConcurrentDictionary<string, Flight> flights, FlightResult<T> result)
        {
            Finish(flights);
            Completion.TrySetResult(result);
        }

        public void Fail(ConcurrentDictionary<string, Flight> flights, Exception exception)
        {
            Finish(flights);
            if (exception is OperationCanceledException && Cancellation.IsCancellationRequested)
            {
                Completion.TrySetCanceled(Cancellation.Token);
            }
            else
            {
                Completion.TrySetException(exception);
            }
        }

        private void Finish(ConcurrentDictionary<string, Flight> flights)
        {
            lock (_gate)
            {
                _finished = true;
            }
            // Unregistered before completing: a caller arriving after a failure starts afresh.
            Unregister(flights);
        }

        private void Unregister(ConcurrentDictionary<string, Flight> flights)
        {
            if (Registered)
            {
                flights.TryRemove(new KeyValuePair<string, Flight>(Key, this));
            }
        }
    }
}

/// <summary>The batch read behind <see cref="HybridCacheBatchExtensions.GetOrCreateManyAsync"/>.</summary>
public sealed partial class RedisHybridCache
{
    internal async ValueTask<T[]> GetOrCreateManyCoreAsync<TState, T>(
        IReadOnlyList<string> keys, TState state, Func<string, TState, CancellationToken, ValueTask<T>> factory,
        HybridCacheEntryOptions? options, IEnumerable<string>? tags, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var flags = options?.Flags ?? _options.DefaultFlags;
        var tagArray = NormalizeTags(tags);
        var results = new T[keys.Count];
        var missing = new List<int>();
        for (var i = 0; i < keys.Count; i++)
        {
            if (IsCacheableKey(keys[i])
                && (flags & HybridCacheEntryFlags.DisableLocalCacheRead) == 0
                && TryGetLocal<T>(keys[i], out var value, out var refresh))
            {
                results[i] = value;
                if (refresh && (flags & HybridCacheEntryFlags.DisableUnderlyingData) == 0)
                {
                    StartEagerRefresh(keys[i], (Key: keys[i], State: state, Factory: factory), static (s, ct) => s.Factory(s.Key, s.State, ct), options, tagArray, flags);
                }
                continue;
            }
            missing.Add(i);
        }
        if (missing.Count == 0)
        {
            return results;
        }

        var stillMissing = missing;
        if ((flags & HybridCacheEntryFlags.DisableDistributedCacheRead) == 0)
        {
            var cacheable = missing.Where(i => keys[i].Length <= _options.MaximumKeyLength).ToList();
            var (done, values) = await _l2.RunAsync(
                "mget", cacheable.ConvertAll(i => keys[i]), static (redis, batch) => redis.GetManyAsync(batch));
            if (done && values is not null)
            {
                var found = new HashSet<int>();
                for (var j = 0; j < cacheable.Count; j++)
                {
                    if (values[j] is not { } bytes)
                    {
                        continue;
                    }
                    var index = cacheable[j];
                    var read = await ReadPayloadAsync<T>(keys[index], bytes, options);
                    if (read.Entry is { } entry)
                    {
                        if ((flags & HybridCacheEntryFlags.DisableLocalCacheWrite) == 0)
                        {
                            _l1.Set(entry);
                        }
                        _telemetry.L2Hit();
                        results[index] = read.Value;
                        found.Add(index);
                    }
                }
                stillMissing = missing.Where(i => !found.Contains(i)).ToList();
            }
        }

        var loads = new Task<T>[stillMissing.Count];
        for (var j = 0; j < stillMissing.Count; j++)
        {
            var key = keys[stillMissing[j]];
            var perKey = (Key: key, State: state, Factory: factory);
            loads[j] = key.Length > _options.MaximumKeyLength
                ? GetOrCreateSlowAsync(key, perKey, static (s, ct) => s.Factory(s.Key, s.State, ct), options, tagArray, flags, cancellationToken).AsTask()
                : ViaFlightAsync(key, perKey, static (s, ct) => s.Factory(s.Key, s.State, ct), options, tagArray, flags, FlightMode.AfterBatchRead, cancellationToken).AsTask();
        }
        var loaded = await Task.WhenAll(loads);
        for (var j = 0; j < stillMissing.Count; j++)
        {
            results[stillMissing[j]] = loaded[j];
        }
        return results;
    }
}
