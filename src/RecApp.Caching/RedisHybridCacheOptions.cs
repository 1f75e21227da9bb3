using System.Text.Json;
using Microsoft.Extensions.Caching.Hybrid;

namespace RecApp.Caching;

/// <summary>
/// Options of <see cref="RedisHybridCache"/>, bound from the configuration section <c>Caching</c>
/// (for example <c>Caching:Expiration = 00:05:00</c> or the environment variable <c>Caching__Expiration</c>).
/// </summary>
public sealed class RedisHybridCacheOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "Caching";

    /// <summary>
    /// Prefix of every Redis key the cache writes (values and tag invalidation records) and of the backplane
    /// channel, so several applications or test classes can share one Redis. Default <c>"recapp:"</c>.
    /// </summary>
    public string KeyPrefix { get; set; } = "recapp:";

    /// <summary>Overall lifetime of an entry (the L2 lifetime) when a call gives none. Default 5 minutes.</summary>
    public TimeSpan Expiration { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Lifetime of the in-process (L1) copy when a call gives none. Default <c>null</c>: the same as
    /// <see cref="Expiration"/>. An L1 copy never outlives the entry's overall expiration.
    /// </summary>
    public TimeSpan? LocalCacheExpiration { get; set; }

    /// <summary>Flags applied when a call passes no <see cref="HybridCacheEntryOptions"/>. Default <c>None</c>.</summary>
    public HybridCacheEntryFlags DefaultFlags { get; set; } = HybridCacheEntryFlags.None;

    /// <summary>Most entries L1 holds; the least recently used are evicted beyond it. Default 10,000.</summary>
    public int MaximumLocalEntries { get; set; } = 10_000;

    /// <summary>
    /// Most bytes of serialized payload L1 holds (0 = no byte bound, the entry count alone bounds it). An entry
    /// counts its serialized size; an immutable value that was never serialized (L2 write disabled) counts 0.
    /// Default 0.
    /// </summary>
    public long MaximumLocalBytes { get; set; }

    /// <summary>Largest serialized value written to Redis; larger values stay in L1 only. Default 1 MiB.</summary>
    public int MaximumPayloadBytes { get; set; } = 1024 * 1024;

    /// <summary>Longest key that is cached; a longer key runs the factory without caching (and logs). Default 1024.</summary>
    public int MaximumKeyLength { get; set; } = 1024;

    /// <summary>
    /// Payloads at least this large are Brotli-compressed in Redis unless the call sets
    /// <see cref="HybridCacheEntryFlags.DisableCompression"/> (0 = never compress). Default 8192 bytes.
    /// </summary>
    public int CompressionThresholdBytes { get; set; } = 8192;

    /// <summary>
    /// Expirations are spread by a random ± this percentage so that entries written together do not all expire
    /// together (seed 001's ±10 %). 0 disables jitter. Default 10.
    /// </summary>
    public double JitterPercent { get; set; } = 10;

    /// <summary>
    /// An entry read in the last fraction of its life is refreshed once in the background while callers keep
    /// getting the current value (0 disables, 0.1 = the last 10 % of its life). Default 0.1.
    /// </summary>
    public double EagerRefreshWindow { get; set; } = 0.1;

    /// <summary>
    /// Stale-if-error: when a factory throws and an expired copy younger than this (age since its creation) is still
    /// held, that copy is returned and a warning logged. Entries are kept that long in L1 and Redis for this.
    /// <c>null</c> disables it. Default <c>null</c>.
    /// </summary>
    public TimeSpan? StaleIfErrorMaximumAge { get; set; }

    /// <summary>Longest wait for one Redis call before it counts as failed and the cache carries on without it. Default 250 ms.</summary>
    public TimeSpan DistributedCacheTimeout { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Consecutive Redis failures that open the circuit breaker. Default 3.</summary>
    public int CircuitBreakerFailureThreshold { get; set; } = 3;

    /// <summary>
    /// How long an open breaker skips Redis before one probe call is let through; a successful probe (or the
    /// connection being restored) closes it. Default 5 seconds.
    /// </summary>
    public TimeSpan CircuitBreakerDuration { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long a tag invalidation time read from Redis is trusted before it is read again; the backplane updates it
    /// at once, this bounds staleness when a backplane message is lost. Default 30 seconds.
    /// </summary>
    public TimeSpan TagCacheDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a tag invalidation record is kept in Redis. Entry expirations are capped to it, so an invalidated
    /// entry can never outlive the record that invalidates it. Default 1 day.
    /// </summary>
    public TimeSpan TagRetention { get; set; } = TimeSpan.FromDays(1);

    /// <summary>Whether changes are broadcast to other instances through Redis pub/sub to evict their L1 copies. Default true.</summary>
    public bool EnableBackplane { get; set; } = true;

    /// <summary>
    /// Whether L1 and the known tag times are dropped when the Redis connection is restored, because backplane
    /// messages sent during the outage were missed. Default true.
    /// </summary>
    public bool ClearLocalCacheOnReconnect { get; set; } = true;

    /// <summary>
    /// Most changes (explicit sets, removals, tag invalidations) kept while Redis is unreachable, to be written and
    /// broadcast when it returns; beyond it further changes stay local (and are logged). Default 10,000.
    /// </summary>
    public int RecoveryQueueLimit { get; set; } = 10_000;

    /// <summary>
    /// Options of the default System.Text.Json serializer. Set <see cref="JsonSerializerOptions.TypeInfoResolver"/>
    /// (or add to its chain) to use source-generated contexts. Default: web defaults with the reflection resolver.
    /// Serializers registered in DI (<see cref="IHybridCacheSerializer{T}"/>, <see cref="IHybridCacheSerializerFactory"/>)
    /// take precedence.
    /// </summary>
    public JsonSerializerOptions JsonSerializerOptions { get; set; } = new(JsonSerializerDefaults.Web);
}
