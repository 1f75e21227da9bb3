using System.Collections;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Options;
using RecApp.Api.Experiments;
using RecApp.Engine;
using RecApp.Engine.Model;
using RecApp.Engine.Embeddings;
using RecApp.Data;
using RecApp.Data.Models;
using RecApp.Api.Model;
using RecApp.Engine.Domain;
using RecApp.Data.Experiments;

namespace RecApp.Api.Recommendations;

/// <summary>
/// A ranked list, whether it came from the cache (L1 or L2) rather than the engine, and the experiment arm it was
/// served in (null outside experiments): the page cut from it is recorded as that arm's exposure. <see cref="Degraded"/>
/// says why the list is not the one asked for (null when it is): see <see cref="DegradedReasons"/>.
/// </summary>
public readonly record struct CachedList(RankedList List, bool CacheHit, ExperimentArm? Arm = null, string? Degraded = null);

/// <summary>The reasons a degraded answer gives in its <c>degraded</c> field.</summary>
public static class DegradedReasons
{
    /// <summary>The database could not be read for the user's history: the popular list of the in-process model instead.</summary>
    public const string DatabaseUnavailable = "database_unavailable";
}

/// <summary>The item asked about in <c>/items/{id}/similar</c> is unknown to the engine.</summary>
public sealed class UnknownItemException(long itemId) : Exception($"Item {itemId} is unknown.");

/// <summary>
/// Full ranked lists through <see cref="HybridCache"/>, one entry per (user or segment, filters, model version).
/// Pages are cut from the cached list by the caller, so every page of a list shares one entry. Each list carries one
/// tag, its owner's, so one change evicts exactly what it affects: <c>user:{id}</c> for a user's lists,
/// <c>segment:...</c> for a demographic list, <c>item:{id}</c> for an item's neighbors (and the experiment's tag in a
/// running experiment). "Every list" is the cache's own clear (<see cref="AllRecommendationsTag"/>), not a tag on each
/// entry: every read checks its entry's tags, and the clear is checked anyway, so each tag less is a lookup less per hit
/// (BenchmarkDotNet <c>RankedListCacheHit</c>, docs/PERFORMANCE.md).
/// </summary>
public sealed class RankedListCache(
    HybridCache cache,
    IRecommender recommender,
    RecommendationMetrics counters,
    ExperimentCatalog experiments,
    IOptionsMonitor<ApiOptions> options,
    DatabaseOutageLog outages)
{
    /// <summary>
    /// <c>HybridCache</c>'s tag for "every entry", which FusionCache serves as its clear. The cache holds nothing but
    /// ranked lists, so this is every list.
    /// </summary>
    public const string AllRecommendationsTag = "*";

    /// <summary>What every ranked list's cache key starts with (the cache registration gives these keys their own entry options).</summary>
    public const string KeyPrefix = "rec:";

    private const string PriceFormat = "0.##########";

    /// <summary>When each list this process's engine produced was finished (weak: gone with the list).</summary>
    private static readonly ConditionalWeakTable<RankedList, object> s_computedAt = [];

    private EntryOptions? _entries;

    /// <summary>Engine runs at once (<see cref="ApiOptions.MaxConcurrentEngineRuns"/>); the rest queue, oldest first.</summary>
    private readonly ConcurrencyLimiter _engineRuns = new(new ConcurrencyLimiterOptions
    {
        PermitLimit = options.CurrentValue.MaxConcurrentEngineRuns is > 0 and var limit ? limit : 2 * Environment.ProcessorCount,
        QueueLimit = int.MaxValue,
        QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
    });

    public static string UserTag(long userId) => "user:" + userId.ToString(CultureInfo.InvariantCulture);

    public static string ItemTag(long itemId) => "item:" + itemId.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// A user's list. With PostgreSQL unreachable (the engine reads the user's history from it on a miss), the answer
    /// degrades to the popular list of the in-process model, which needs no database, and nothing is cached under
    /// the user's key: the next request after the outage computes the real list.
    /// </summary>
    public async ValueTask<CachedList> ForUserAsync(
        ModelSnapshot snapshot, long userId, RecommendationFilters filters, CancellationToken cancellationToken)
    {
        try
        {
            return await PersonalizedAsync(snapshot, userId, filters, cancellationToken);
        }
        catch (Exception ex) when (DatabaseBreaker.IsOutage(ex))
        {
            outages.Failed(ex, "a personalized miss answered the popular fallback");
            var popular = await PopularAsync(snapshot, new Demographics(), filters, cancellationToken);
            counters.CountFallback();
            // Not the user's list, from the cache or not: never reported as a cache hit.
            return popular with { CacheHit = false, Degraded = DegradedReasons.DatabaseUnavailable };
        }
    }

    /// <summary>
    /// In a running experiment the user's arm picks the engine, the key carries the arm (each variant is cached on its
    /// own), and the entry is tagged with the experiment, so changing it evicts exactly its lists.
    /// </summary>
    private async ValueTask<CachedList> PersonalizedAsync(
        ModelSnapshot snapshot, long userId, RecommendationFilters filters, CancellationToken cancellationToken)
    {
        var arm = experiments.ArmFor(ExperimentSurface.Personalized, userId);
        // The engine bounds its history read with the DatabaseBreaker (IUserReadGuard); scoring is not bounded.
        var lookup = new Lookup<(ModelSnapshot Snapshot, long UserId, RecommendationFilters Filters)>(
            _engineRuns, arm?.Recommender ?? recommender, (snapshot, userId, filters), static a => UserTag(a.UserId), "engine personalized",
            static async (r, a, ct) => await r.ForUserAsync(a.Snapshot, a.UserId, a.Filters, ct),
            arm?.Tag);
        var key = UserKey(userId, snapshot.Version, filters);
        var read = await ReadAsync(RecommendationKind.Personalized, arm is null ? key : key + ":x" + arm.Label, lookup, Entries().Personalized, cancellationToken);
        return read with { Arm = arm };
    }

    /// <summary>
    /// Unfiltered lists for many users, in the order asked: one cache read per user, run concurrently, each entry
    /// tagged with its own user, so at most one engine run per user. With PostgreSQL unreachable a miss falls back
    /// as in <see cref="ForUserAsync"/>.
    /// </summary>
    public async ValueTask<CachedList[]> ForUsersAsync(ModelSnapshot snapshot, IReadOnlyList<long> userIds, CancellationToken cancellationToken)
    {
        var reads = new Task<CachedList>[userIds.Count];
        for (var i = 0; i < reads.Length; i++)
        {
            reads[i] = ForUserAsync(snapshot, userIds[i], RecommendationFilters.None, cancellationToken).AsTask();
        }
        return await Task.WhenAll(reads);
    }

    public async ValueTask<CachedList> PopularAsync(
        ModelSnapshot snapshot, Demographics demographics, RecommendationFilters filters, CancellationToken cancellationToken)
    {
        var segment = SegmentOf(demographics);
        var lookup = new Lookup<(ModelSnapshot Snapshot, Demographics Demographics, RecommendationFilters Filters, string Segment)>(
            _engineRuns, recommender, (snapshot, demographics, filters, segment), static a => "segment:" + a.Segment, "engine popular",
            static async (r, a, ct) => await r.PopularAsync(a.Snapshot, a.Demographics, a.Filters, ct));
        var key = new DefaultInterpolatedStringHandler(8, 2, CultureInfo.InvariantCulture);
        key.AppendLiteral(KeyPrefix);
        key.AppendLiteral("p:v");
        key.AppendFormatted(snapshot.Version);
        key.AppendLiteral(":");
        key.AppendFormatted(segment);
        AppendFilters(ref key, filters);
        return await ReadAsync(RecommendationKind.Popular, key.ToStringAndClear(), lookup, Entries().Popular, cancellationToken);
    }

    /// <summary>Neighbors of an item. Throws <see cref="UnknownItemException"/> (never cached) for an unknown item.</summary>
    public async ValueTask<CachedList> SimilarAsync(ModelSnapshot snapshot, long itemId, CancellationToken cancellationToken)
    {
        var lookup = new Lookup<(ModelSnapshot Snapshot, long ItemId)>(_engineRuns, recommender, (snapshot, itemId), static a => ItemTag(a.ItemId), "engine similar",
            static async (r, a, ct) => await r.SimilarAsync(a.Snapshot, a.ItemId, ct) ?? throw new UnknownItemException(a.ItemId));
        return await ReadAsync(RecommendationKind.Similar,
            string.Create(CultureInfo.InvariantCulture, $"{KeyPrefix}s:{itemId}:v{snapshot.Version}"), lookup, Entries().Popular, cancellationToken);
    }

    /// <summary>
    /// One cache read. <c>cache_hit</c> is true exactly when the list was in the cache before this request began: a
    /// list an engine run in this process finished after that moment (this request's own run, or a concurrent
    /// caller's it waited for) is a miss; one from L1 computed earlier, from L2, or served by fail-safe is a hit.
    /// </summary>
    private async ValueTask<CachedList> ReadAsync<TArgs>(
        RecommendationKind kind, string key, Lookup<TArgs> lookup, HybridCacheEntryOptions entry, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var list = await cache.GetOrCreateAsync(key, lookup, static async (l, ct) => await l.ComputeAsync(ct), entry, lookup, cancellationToken);
        var computedDuringRequest = s_computedAt.TryGetValue(list, out var at) && (long)at >= started;
        return counters.Count(kind, list, hit: !computedDuringRequest);
    }

    /// <summary>A stable, readable segment id: <c>f|25-34|213|electronics</c>, <c>*</c> for "any".</summary>
    internal static string SegmentOf(Demographics d) => string.Create(CultureInfo.InvariantCulture,
        $"{d.Gender ?? "*"}|{d.AgeGroup ?? "*"}|{(d.GeoId is { } geo ? geo.ToString(CultureInfo.InvariantCulture) : "*")}|{d.Category ?? "*"}");

    private static string UserKey(long userId, long version, RecommendationFilters filters)
    {
        var key = new DefaultInterpolatedStringHandler(8, 2, CultureInfo.InvariantCulture);
        key.AppendLiteral(KeyPrefix);
        key.AppendLiteral("u:");
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
    private sealed class Lookup<TArgs>(
        RateLimiter engineRuns,
        IRecommender recommender,
        TArgs args,
        Func<TArgs, string> ownTag,
        string activityName,
        Func<IRecommender, TArgs, CancellationToken, ValueTask<RankedList>> compute,
        string? experimentTag = null) : IEnumerable<string>
    {
        public async ValueTask<RankedList> ComputeAsync(CancellationToken cancellationToken)
        {
            // The queue is unbounded: a permit always comes, unless the request is cancelled while it waits.
            using var permit = await engineRuns.AcquireAsync(1, cancellationToken);
            using var activity = RecommendationMetrics.Source.StartActivity(activityName);
            var list = await compute(recommender, args, cancellationToken);
            activity?.SetTag("algorithm", list.Algorithm.ToString());
            s_computedAt.AddOrUpdate(list, Stopwatch.GetTimestamp());
            return list;
        }

        public IEnumerator<string> GetEnumerator()
        {
            yield return ownTag(args);
            if (experimentTag is not null)
            {
                yield return experimentTag;
            }
        }

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
