using System.Collections;
using System.Globalization;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Options;
using RecApp.Api.Validation;
using RecApp.Caching;
using RecApp.Recommendations.Model;
using RecApp.Recommendations.Scoring;

namespace RecApp.Api.Recommendations;

/// <summary>A ranked list and whether it came from the cache (L1 or L2) rather than the engine.</summary>
public readonly record struct CachedList(RankedList List, bool CacheHit);

/// <summary>The item asked about in <c>/items/{id}/similar</c> is unknown to the engine.</summary>
public sealed class UnknownItemException(long itemId) : Exception($"Item {itemId} is unknown.");

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
    IOptionsMonitor<ApiOptions> options,
    ILogger<RankedListCache> logger)
{
    public const string AllRecommendationsTag = "recs";

    private const string PriceFormat = "0.##########";

    private EntryOptions? _entries;
    private VersionOf? _version;

    public static string UserTag(long userId) => "user:" + userId.ToString(CultureInfo.InvariantCulture);

    public static string ItemTag(long itemId) => "item:" + itemId.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// A user's list. With PostgreSQL unreachable (the engine reads the user's history from it on a miss), the answer
    /// degrades to the popular list of the in-process model, which needs no database, and nothing is cached under
    /// the user's key: the next request after the outage computes the real list.
    /// </summary>
    public async ValueTask<CachedList> ForUserAsync(long userId, RecommendationFilters filters, CancellationToken cancellationToken)
    {
        try
        {
            return await PersonalizedAsync(userId, filters, cancellationToken);
        }
        catch (Exception ex) when (ApiExceptionHandler.IsDatabaseOutage(ex))
        {
            logger.LogWarning(ex, "Database unreachable: user {UserId} gets the popular list instead of a personalized one.", userId);
            return await PopularAsync(new Demographics(), filters, cancellationToken);
        }
    }

    private async ValueTask<CachedList> PersonalizedAsync(long userId, RecommendationFilters filters, CancellationToken cancellationToken)
    {
        var state = new Lookup<(long UserId, RecommendationFilters Filters)>(
            recommender, (userId, filters), static a => UserTag(a.UserId), AllRecommendationsTag);
        var read = await cache.GetOrCreateWithSourceAsync(
            UserKey(userId, CurrentVersion(), filters),
            state,
            static async (s, ct) => await s.Recommender.ForUserAsync(s.Args.UserId, s.Args.Filters, ct),
            Entries().Personalized,
            state,
            cancellationToken);
        return counters.Count(RecommendationKind.Personalized, read.Value, read.IsCacheHit);
    }

    /// <summary>
    /// Unfiltered lists for many users, in the order asked, in one cache call: L1, then one Redis MGET for the L1
    /// misses, then the engine for what is still missing, each entry tagged with its own user. With PostgreSQL
    /// unreachable the misses fall back one by one, as in <see cref="ForUserAsync"/>.
    /// </summary>
    public async ValueTask<CachedList[]> ForUsersAsync(IReadOnlyList<long> userIds, CancellationToken cancellationToken)
    {
        var version = CurrentVersion();
        var keys = new string[userIds.Count];
        var usersByKey = new Dictionary<string, long>(keys.Length, StringComparer.Ordinal);
        for (var i = 0; i < keys.Length; i++)
        {
            keys[i] = UserKey(userIds[i], version, RecommendationFilters.None);
            usersByKey[keys[i]] = userIds[i];
        }

        var results = new CachedList[keys.Length];
        try
        {
            var reads = await cache.GetOrCreateManyWithSourceAsync(
                keys,
                (Recommender: recommender, Users: usersByKey),
                static async (key, s, ct) => await s.Recommender.ForUserAsync(s.Users[key], RecommendationFilters.None, ct),
                static (key, s) => [UserTag(s.Users[key]), AllRecommendationsTag],
                Entries().Personalized,
                cancellationToken);
            for (var i = 0; i < reads.Length; i++)
            {
                results[i] = counters.Count(RecommendationKind.Personalized, reads[i].Value, reads[i].IsCacheHit);
            }
        }
        catch (Exception ex) when (ApiExceptionHandler.IsDatabaseOutage(ex))
        {
            for (var i = 0; i < keys.Length; i++)
            {
                results[i] = await ForUserAsync(userIds[i], RecommendationFilters.None, cancellationToken);
            }
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
        var read = await cache.GetOrCreateWithSourceAsync(
            key.ToStringAndClear(),
            state,
            static async (s, ct) => await s.Recommender.PopularAsync(s.Args.Demographics, s.Args.Filters, ct),
            Entries().Popular,
            state,
            cancellationToken);
        return counters.Count(RecommendationKind.Popular, read.Value, read.IsCacheHit);
    }

    /// <summary>Neighbors of an item. Throws <see cref="UnknownItemException"/> (never cached) for an unknown item.</summary>
    public async ValueTask<CachedList> SimilarAsync(long itemId, CancellationToken cancellationToken)
    {
        var state = new Lookup<long>(recommender, itemId, static id => ItemTag(id), "similar");
        var read = await cache.GetOrCreateWithSourceAsync(
            string.Create(CultureInfo.InvariantCulture, $"rec:s:{itemId}:v{CurrentVersion()}"),
            state,
            static async (s, ct) => await s.Recommender.SimilarAsync(s.Args, ct) ?? throw new UnknownItemException(s.Args),
            Entries().Popular,
            state,
            cancellationToken);
        return counters.Count(RecommendationKind.Similar, read.Value, read.IsCacheHit);
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
    /// Factory state: avoids a closure per call, and is also the entry's tag list, produced only when the cache needs
    /// it (a miss), so an L1 hit builds no tag strings. Immutable: the cache may reuse it for a background refresh.
    /// </summary>
    private sealed class Lookup<TArgs>(IRecommender recommender, TArgs args, Func<TArgs, string> ownTag, string kindTag)
        : IEnumerable<string>
    {
        public IRecommender Recommender { get; } = recommender;
        public TArgs Args { get; } = args;

        public IEnumerator<string> GetEnumerator()
        {
            yield return ownTag(Args);
            yield return kindTag;
            yield return AllRecommendationsTag;
        }

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
