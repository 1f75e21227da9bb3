using System.Collections;
using System.Globalization;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Options;
using RecApp.Caching;
using RecApp.Recommendations.Model;
using RecApp.Recommendations.Scoring;

namespace RecApp.Api.Recommendations;

/// <summary>A ranked list and whether it came from the cache (L1 or L2) rather than the engine.</summary>
public readonly record struct CachedList(RankedList List, bool CacheHit);

/// <summary>The item asked about in <c>/items/{id}/similar</c> is unknown to the engine.</summary>
public sealed class UnknownItemException(long itemId) : Exception($"Item {itemId} is unknown.")
{
    public long ItemId { get; } = itemId;
}

/// <summary>
/// Full ranked lists through <see cref="HybridCache"/>, one entry per (user or segment, filters, model version).
/// Pages are cut from the cached list by the caller, so every page of a list shares one entry. Tags let one
/// change evict exactly what it affects: <c>user:{id}</c> for a user's lists, <c>segment:...</c> and
/// <c>popular</c> for demographic lists, <c>item:{id}</c> and <c>similar</c> for an item's neighbors; every
/// list also carries <c>recs</c> (clear all).
/// </summary>
public sealed class RankedListCache(
    HybridCache cache,
    IRecommender recommender,
    IGlobalModel model,
    RecommendationCounters counters,
    IOptionsMonitor<ApiOptions> options)
{
    public const string AllRecommendationsTag = "recs";

    private const string PriceFormat = "0.##########";

    /// <summary>A multi-key read that never computes nor writes: misses come back null.</summary>
    private static readonly HybridCacheEntryOptions s_readOnly = new() { Flags = HybridCacheEntryFlags.DisableUnderlyingData };

    private EntryOptions? _entries;
    private VersionOf? _version;

    public static string UserTag(long userId) => "user:" + userId.ToString(CultureInfo.InvariantCulture);

    public static string ItemTag(long itemId) => "item:" + itemId.ToString(CultureInfo.InvariantCulture);

    public async ValueTask<CachedList> ForUserAsync(long userId, RecommendationFilters filters, CancellationToken cancellationToken)
    {
        var state = new Lookup<(long UserId, RecommendationFilters Filters)>(
            recommender, (userId, filters), static a => UserTag(a.UserId), AllRecommendationsTag);
        var list = await cache.GetOrCreateAsync(
            UserKey(userId, CurrentVersion(), filters),
            state,
            static async (s, ct) =>
            {
                s.Computed = true;
                return await s.Recommender.ForUserAsync(s.Args.UserId, s.Args.Filters, ct);
            },
            Entries().Personalized,
            state,
            cancellationToken);
        return counters.Count(RecommendationKind.Personalized, list, !state.Computed);
    }

    /// <summary>
    /// Unfiltered lists for many users, in the order asked: L1, then one Redis MGET for the L1 misses, then the
    /// engine for what is still missing. The multi-key read only reads; the misses are computed through
    /// <see cref="ForUserAsync"/> so that each entry carries its own <c>user:{id}</c> tag.
    /// </summary>
    public async ValueTask<CachedList[]> ForUsersAsync(IReadOnlyList<long> userIds, CancellationToken cancellationToken)
    {
        var version = CurrentVersion();
        var keys = new string[userIds.Count];
        for (var i = 0; i < keys.Length; i++)
        {
            keys[i] = UserKey(userIds[i], version, RecommendationFilters.None);
        }
        var found = await cache.GetOrCreateManyAsync<object?, RankedList?>(
            keys, null, static (_, _, _) => ValueTask.FromResult<RankedList?>(null), s_readOnly, null, cancellationToken);

        var results = new CachedList[keys.Length];
        var misses = new List<(int Index, Task<CachedList> Lookup)>();
        for (var i = 0; i < keys.Length; i++)
        {
            if (found[i] is { } list)
            {
                results[i] = counters.Count(RecommendationKind.Personalized, list, hit: true);
            }
            else
            {
                misses.Add((i, ForUserAsync(userIds[i], RecommendationFilters.None, cancellationToken).AsTask()));
            }
        }
        foreach (var (index, lookup) in misses)
        {
            results[index] = await lookup;
        }
        return results;
    }

    public async ValueTask<CachedList> PopularAsync(Demographics demographics, RecommendationFilters filters, CancellationToken cancellationToken)
    {
        var segment = SegmentOf(demographics);
        var state = new Lookup<(Demographics Demographics, RecommendationFilters Filters, string Segment)>(
            recommender, (demographics, filters, segment), static a => "segment:" + a.Segment, "popular");
        var key = new DefaultInterpolatedStringHandler(8, 2, CultureInfo.InvariantCulture);
        key.AppendLiteral("rec:p:v");
        key.AppendFormatted(CurrentVersion());
        key.AppendLiteral(":");
        key.AppendFormatted(segment);
        AppendFilters(ref key, filters);
        var list = await cache.GetOrCreateAsync(
            key.ToStringAndClear(),
            state,
            static async (s, ct) =>
            {
                s.Computed = true;
                return await s.Recommender.PopularAsync(s.Args.Demographics, s.Args.Filters, ct);
            },
            Entries().Popular,
            state,
            cancellationToken);
        return counters.Count(RecommendationKind.Popular, list, !state.Computed);
    }

    /// <summary>Neighbors of an item. Throws <see cref="UnknownItemException"/> (never cached) for an unknown item.</summary>
    public async ValueTask<CachedList> SimilarAsync(long itemId, CancellationToken cancellationToken)
    {
        var state = new Lookup<long>(recommender, itemId, static id => ItemTag(id), "similar");
        var list = await cache.GetOrCreateAsync(
            string.Create(CultureInfo.InvariantCulture, $"rec:s:{itemId}:v{CurrentVersion()}"),
            state,
            static async (s, ct) =>
            {
                s.Computed = true;
                return await s.Recommender.SimilarAsync(s.Args, ct) ?? throw new UnknownItemException(s.Args);
            },
            Entries().Popular,
            state,
            cancellationToken);
        return counters.Count(RecommendationKind.Similar, list, !state.Computed);
    }

    /// <summary>A stable, readable segment id: <c>f|25-34|213|electronics</c>, <c>*</c> for "any".</summary>
    internal static string SegmentOf(Demographics d) => string.Create(CultureInfo.InvariantCulture,
        $"{d.Gender ?? "*"}|{d.AgeGroup ?? "*"}|{(d.GeoId is { } geo ? geo.ToString(CultureInfo.InvariantCulture) : "*")}|{d.Category ?? "*"}");

    private static string UserKey(long userId, long version, RecommendationFilters filters)
    {
        var key = new DefaultInterpolatedStringHandler(8, 2, CultureInfo.InvariantCulture);
        key.AppendLiteral("rec:u:");
        key.AppendFormatted(userId);
        key.AppendLiteral(":v");
        key.AppendFormatted(version);
        AppendFilters(ref key, filters);
        return key.ToStringAndClear();
    }

    private static void AppendFilters(ref DefaultInterpolatedStringHandler key, RecommendationFilters filters)
    {
        if (filters == RecommendationFilters.None)
        {
            return;
        }
        // 500 and 500.00 are the same filter: format without trailing zeros.
        key.AppendLiteral(":f");
        key.AppendFormatted(filters.PriceFrom, PriceFormat);
        key.AppendLiteral("-");
        key.AppendFormatted(filters.PriceTo, PriceFormat);
        key.AppendLiteral("|");
        key.AppendFormatted(filters.Category);
        key.AppendLiteral("|");
        key.AppendFormatted(filters.GeoId);
    }

    /// <summary>The model version of the current snapshot, computed once per snapshot rather than per request.</summary>
    private long CurrentVersion()
    {
        var snapshot = model.Current;
        var known = Volatile.Read(ref _version);
        if (known is not null && ReferenceEquals(known.Snapshot, snapshot))
        {
            return known.Version;
        }
        known = new VersionOf(snapshot, snapshot.Version);
        Volatile.Write(ref _version, known);
        return known.Version;
    }

    /// <summary>Entry options built once per TTL setting rather than per request.</summary>
    private EntryOptions Entries()
    {
        var settings = options.CurrentValue;
        var entries = Volatile.Read(ref _entries);
        if (entries is null || entries.Settings != settings)
        {
            entries = new EntryOptions(settings);
            Volatile.Write(ref _entries, entries);
        }
        return entries;
    }

    private sealed record VersionOf(ModelSnapshot Snapshot, long Version);

    private sealed class EntryOptions(ApiOptions settings)
    {
        public ApiOptions Settings { get; } = settings;
        public HybridCacheEntryOptions Popular { get; } = Of(settings.PopularTtl);
        public HybridCacheEntryOptions Personalized { get; } = Of(settings.PersonalizedTtl);

        private static HybridCacheEntryOptions Of(TimeSpan ttl) => new() { Expiration = ttl, LocalCacheExpiration = ttl };
    }

    /// <summary>
    /// Factory state: avoids a closure per call, records whether the engine ran (a cache miss), and is also the
    /// entry's tag list, produced only when the cache needs it (a miss), so an L1 hit builds no tag strings.
    /// </summary>
    private sealed class Lookup<TArgs>(IRecommender recommender, TArgs args, Func<TArgs, string> ownTag, string kindTag)
        : IEnumerable<string>
    {
        public IRecommender Recommender { get; } = recommender;
        public TArgs Args { get; } = args;
        public bool Computed { get; set; }

        public IEnumerator<string> GetEnumerator()
        {
            yield return ownTag(Args);
            yield return kindTag;
            yield return AllRecommendationsTag;
        }

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
