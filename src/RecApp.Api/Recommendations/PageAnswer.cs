using System.Diagnostics;
using RecApp.Engine.Model;
using RecApp.Engine.Training;
using RecApp.Engine.Embeddings;
using RecApp.Data;
using RecApp.Data.Models;
using RecApp.Api.Model;
using RecApp.Engine.Domain;

namespace RecApp.Api.Recommendations;

/// <summary>
/// Cuts one page out of a cached full list, skipping items the live in-process catalog says may not be served
/// now: a list cached an hour ago still never shows an item deactivated or repriced a moment ago.
/// </summary>
internal static class PageAnswer
{
    /// <summary>The page as a response; the caller records it as the arm's exposure (<see cref="ExperimentArm.Record"/>).</summary>
    public static RecommendationResponse Cut(
        CachedList cached, RecApp.Engine.Model.Catalog catalog, RecommendationFilters filters, int page, int limit, double elapsedMs)
    {
        var ids = cached.List.ItemIds;
        var skip = (long)(page - 1) * limit;
        var items = new List<long>(Math.Min(limit, ids.Length));
        var servable = 0L;
        foreach (var id in ids)
        {
            if (!catalog.Admits(filters, id))
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
            elapsedMs,
            cached.List.Algorithm.ToWireName(),
            cached.CacheHit,
            cached.List.ModelVersion,
            cached.Arm?.Label,
            cached.Degraded);
    }

    public static double ElapsedMs(long started) => Math.Round(Stopwatch.GetElapsedTime(started).TotalMilliseconds, 3);
}
