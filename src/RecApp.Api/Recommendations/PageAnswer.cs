using System.Diagnostics;
using RecApp.Recommendations.Model;
using RecApp.Recommendations.Scoring;

namespace RecApp.Api.Recommendations;

/// <summary>
/// Cuts one page out of a cached full list, skipping items the live in-process catalog says may not be served
/// now: a list cached an hour ago still never shows an item deactivated or repriced a moment ago.
/// </summary>
internal static class PageAnswer
{
    public static RecommendationResponse Cut(
        CachedList cached, RecApp.Recommendations.Model.Catalog catalog, RecommendationFilters filters, int page, int limit, long started)
    {
        var ids = cached.List.ItemIds;
        var skip = (long)(page - 1) * limit;
        var items = new List<long>(Math.Min(limit, ids.Length));
        var servable = 0L;
        foreach (var id in ids)
        {
            if (!filters.Admits(catalog.Find(id)))
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
        long[] shown = [.. items];
        cached.Arm?.Record(shown);
        return new RecommendationResponse(
            shown,
            new Pagination(page, limit, totalPages, page < totalPages, page > 1),
            ElapsedMs(started),
            AlgorithmName(cached.List.Algorithm),
            cached.CacheHit,
            cached.List.ModelVersion,
            cached.Arm?.Label,
            cached.Degraded);
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
