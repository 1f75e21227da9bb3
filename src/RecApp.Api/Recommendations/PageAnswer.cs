using System.Diagnostics;
using RecApp.Api.Catalog;
using RecApp.Recommendations.Scoring;

namespace RecApp.Api.Recommendations;

/// <summary>Cuts one page out of a cached full list, skipping items the live catalog says may not be served.</summary>
internal static class PageAnswer
{
    public static RecommendationResponse Cut(
        CachedList cached, LiveCatalog catalog, RecommendationFilters filters, int page, int limit, long started)
    {
        var ids = cached.List.ItemIds;
        var skip = (long)(page - 1) * limit;
        var items = new List<long>(Math.Min(limit, ids.Length));
        var servable = 0L;
        foreach (var id in ids)
        {
            // Re-checked on every answer: an item deactivated or repriced since the list was cached drops out here.
            if (!catalog.IsServable(id, filters))
            {
                continue;
            }
            if (servable >= skip && items.Count < limit)
            {
                items.Add(id);
            }
            servable++;
        }
        var totalPages = (int)((servable + limit - 1) / limit);
        return new RecommendationResponse(
            [.. items],
            new Pagination(page, limit, totalPages, page < totalPages, page > 1),
            ElapsedMs(started),
            AlgorithmName(cached.List.Algorithm),
            cached.CacheHit,
            cached.List.ModelVersion);
    }

    public static double ElapsedMs(long started) => Math.Round(Stopwatch.GetElapsedTime(started).TotalMilliseconds, 3);

    public static string AlgorithmName(RecommendationAlgorithm algorithm) => algorithm switch
    {
        RecommendationAlgorithm.Popular => "popular",
        RecommendationAlgorithm.Content => "content",
        RecommendationAlgorithm.Collaborative => "collaborative",
        RecommendationAlgorithm.Similar => "similar",
        _ => algorithm.ToString().ToLowerInvariant(),
    };
}
