using System.ComponentModel.DataAnnotations;
using RecApp.Data;
using RecApp.Data.Source;

namespace RecApp.Api.Caching;

/// <summary>
/// The two-layer cache's settings (section <c>Caching</c>). FusionCache does the work; these are the knobs RecApp
/// relies on, with defaults chosen so a Redis outage never stalls a request and the cache is whole again within
/// about two seconds after Redis returns.
/// </summary>
public sealed class CachingOptions : IValidatableObject
{
    public const string SectionName = "Caching";

    /// <summary>Prefix of every Redis key and channel RecApp uses (cache entries, backplane, catalog and model channels).</summary>
    [Required(AllowEmptyStrings = false)]
    public string KeyPrefix { get; set; } = RedisNames.DefaultKeyPrefix;

    /// <summary>Most entries kept in process (L1); the least recently used go first.</summary>
    [Range(1, 10_000_000)]
    public int MaximumLocalEntries { get; set; } = 10_000;

    /// <summary>How long a Redis read may hold a request before the cache goes on without it (the call finishes in the background).</summary>
    public TimeSpan DistributedCacheSoftTimeout { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The longest a Redis read may hold a request at all.</summary>
    public TimeSpan DistributedCacheHardTimeout { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>After a Redis error, Redis is skipped (L1 and the engine answer) for this long before it is tried again.</summary>
    public TimeSpan CircuitBreakerDuration { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>An entry read after this fraction of its life is refreshed in the background (0 = off).</summary>
    [Range(0.0, 0.99)]
    public double EagerRefreshThreshold { get; set; } = 0.9;

    /// <summary>How long an expired entry may still be served when recomputing it fails (fail-safe).</summary>
    public TimeSpan FailSafeMaxDuration { get; set; } = TimeSpan.FromHours(2);

    /// <summary>Random extra lifetime, up to this, so entries written together do not expire together.</summary>
    public TimeSpan JitterMaxDuration { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Redis pub/sub backplane: a removal or tag invalidation on one instance evicts the L1 copies on every other.</summary>
    public bool EnableBackplane { get; set; } = true;

    /// <summary>How often a failed Redis write or backplane message is retried once Redis returns (auto-recovery).</summary>
    public TimeSpan AutoRecoveryDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// While Redis is down, how often each instance reads new interactions to evict those users' lists itself (the
    /// backplane cannot carry the evictions then).
    /// </summary>
    public TimeSpan OutageEvictionPollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// When an instance notices Redis is down, it also evicts the users of interactions written this long before it
    /// noticed: the outage began before the Redis client saw it, and their backplane messages may not have arrived.
    /// </summary>
    public TimeSpan OutageEvictionLookback { get; set; } = TimeSpan.FromSeconds(10);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var (name, value) in new[]
                 {
                     (nameof(DistributedCacheSoftTimeout), DistributedCacheSoftTimeout),
                     (nameof(DistributedCacheHardTimeout), DistributedCacheHardTimeout),
                     (nameof(CircuitBreakerDuration), CircuitBreakerDuration),
                     (nameof(AutoRecoveryDelay), AutoRecoveryDelay),
                     (nameof(OutageEvictionPollInterval), OutageEvictionPollInterval),
                     (nameof(OutageEvictionLookback), OutageEvictionLookback),
                 })
        {
            if (value <= TimeSpan.Zero)
            {
                yield return new ValidationResult($"{SectionName}:{name} must be a positive duration.", [name]);
            }
        }
        if (DistributedCacheSoftTimeout > DistributedCacheHardTimeout)
        {
            yield return new ValidationResult(
                $"{SectionName}:{nameof(DistributedCacheSoftTimeout)} must not exceed {SectionName}:{nameof(DistributedCacheHardTimeout)}.",
                [nameof(DistributedCacheSoftTimeout)]);
        }
        if (FailSafeMaxDuration < TimeSpan.Zero || JitterMaxDuration < TimeSpan.Zero)
        {
            yield return new ValidationResult(
                $"{SectionName}:{nameof(FailSafeMaxDuration)} and {SectionName}:{nameof(JitterMaxDuration)} must not be negative.",
                [nameof(FailSafeMaxDuration), nameof(JitterMaxDuration)]);
        }
    }
}
