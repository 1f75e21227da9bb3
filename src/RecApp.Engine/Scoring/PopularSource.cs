using RecApp.Engine.Domain;
using RecApp.Engine.Model;

namespace RecApp.Engine.Scoring;

/// <summary>
/// Popular items for the user's demographic segment (with its fallback chain and the trending bonus): the whole answer
/// of the 0 tier, a tenth of the 1–2 tier's, one source of the blend, and what fills a short list.
/// </summary>
public sealed class PopularSource(RecommendationOptions options) : ICandidateSource
{
    public string Name => BlendWeights.PopularSource;

    /// <summary>A copy of the context's popular list (computed once per request).</summary>
    public Dictionary<long, float> Propose(CandidateContext context)
    {
        var copy = context.Scratch.Scores();
        foreach (var (id, score) in context.Popular)
        {
            copy.Add(id, score);
        }
        return copy;
    }

    /// <summary>
    /// The segment's list, then broader segments to fill: each chain step uses its per-category list when one is
    /// stored, else its overall list narrowed to the category; trending items get a bonus on top. Scores in (0, 1], relative to the best of the first list used.
    /// </summary>
    public Dictionary<long, float> Score(ModelSnapshot snapshot, Demographics d, Func<long, bool> allowed) =>
        Score(snapshot, d, allowed, []);

    /// <summary>The same into <paramref name="scores"/> (empty).</summary>
    internal Dictionary<long, float> Score(ModelSnapshot snapshot, Demographics d, Func<long, bool> allowed, Dictionary<long, float> scores)
    {
        var lists = snapshot.Popularity.Lists;
        var floor = 1f;
        foreach (var segment in Demographics.FallbackChain(d.GeoId, d.Gender, d.AgeGroup))
        {
            ScoredIds? list = null;
            if (d.Category is not null && lists.TryGetValue(segment with { Category = d.Category }, out var byCategory))
            {
                list = byCategory;
            }
            else if (lists.TryGetValue(segment, out var overall))
            {
                list = overall;
            }
            if (list is null || list.Ids.Length == 0)
            {
                continue;
            }
            // Scores relative to the list's best; a broader list only fills in below what the narrower one gave.
            var max = Math.Max(list.Scores[0], 1e-9f);
            var lowest = floor;
            for (var k = 0; k < list.Ids.Length; k++)
            {
                var id = list.Ids[k];
                if (d.Category is not null && snapshot.Catalog.Find(id)?.Category != d.Category)
                {
                    continue;
                }
                if (!scores.ContainsKey(id) && allowed(id))
                {
                    var score = floor * Math.Max(list.Scores[k] / max, 1e-6f);
                    scores[id] = score;
                    lowest = Math.Min(lowest, score);
                }
            }
            floor = lowest * 0.999f;
            if (scores.Count >= options.Scoring.MaxResults)
            {
                break;
            }
        }

        // Trending (last days, decayed) lifts what is rising now, within the same category if one is asked for.
        var trending = d.Category is null ? snapshot.Trending.Overall : snapshot.Trending.ByCategory.GetValueOrDefault(d.Category);
        if (options.Popularity.TrendingWeight > 0 && trending is { Ids.Length: > 0 })
        {
            var best = Math.Max(trending.Scores[0], 1e-9f);
            for (var k = 0; k < trending.Ids.Length; k++)
            {
                var id = trending.Ids[k];
                if (scores.ContainsKey(id) || allowed(id))
                {
                    scores[id] = scores.GetValueOrDefault(id) + options.Popularity.TrendingWeight * trending.Scores[k] / best;
                }
            }
        }
        return scores;
    }
}
