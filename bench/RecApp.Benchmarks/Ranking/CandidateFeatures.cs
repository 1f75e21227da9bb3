using RecApp.Engine.Model;
using RecApp.Engine.Embeddings;
using RecApp.Data;
using RecApp.Data.Models;
using RecApp.Api.Model;
using RecApp.Engine.Domain;
using RecApp.Engine.Scoring;

namespace RecApp.Benchmarks.Ranking;

/// <summary>One user's candidates for the learned ranker: item ids and one feature row each (<see cref="CandidateFeatures.Names"/> order).</summary>
internal sealed record CandidateRows(long[] Ids, float[][] Rows);

/// <summary>
/// Features of the 3+ tier's candidates for a learned ranker, generic over the number of candidate sources
/// (<see cref="UserCandidates.Sources"/>, indexed like <see cref="BlendWeights"/>). The candidates are the union of each
/// source's top <see cref="PerSource"/>: beyond that no source argues for an item and the ranker has nothing to learn from.
/// Per candidate:
/// <list type="bullet">
/// <item>per source: its reciprocal-rank score (0 when absent) and whether it proposes the item;</item>
/// <item>how many sources propose it, the tuned blend's score and its rank among the candidates (the served ranking, a
/// feature to improve on);</item>
/// <item>item: popularity in the global list and in the user's segment list (with trending), age in days from the data clock;</item>
/// <item>user × item: share of the user's history in the item's category, tag overlap with the history, price distance
/// to the user's mean price;</item>
/// <item>user: history length (log).</item>
/// </list>
/// One instance per snapshot (it indexes the global popular list once); thread-safe.
/// </summary>
internal sealed class CandidateFeatures
{
    private readonly ModelSnapshot _snapshot;
    private readonly Dictionary<long, float> _globalPopularity;

    public CandidateFeatures(ModelSnapshot snapshot, int perSource)
    {
        _snapshot = snapshot;
        PerSource = perSource;
        _globalPopularity = [];
        if (snapshot.Popularity.Lists.TryGetValue(new Demographics(), out var list) && list.Ids.Length > 0)
        {
            var best = Math.Max(list.Scores[0], 1e-9f);
            for (var k = 0; k < list.Ids.Length; k++)
            {
                _globalPopularity[list.Ids[k]] = list.Scores[k] / best;
            }
        }
    }

    /// <summary>Candidates kept per source (its best by rank score).</summary>
    public int PerSource { get; }

    private const int ItemAndUserFeatures = 10;

    public static int Count(int sources) => 2 * sources + ItemAndUserFeatures;

    public static string[] Names(IReadOnlyList<string> sourceNames) =>
    [
        .. sourceNames.Select(s => $"{s}_rank_score"),
        .. sourceNames.Select(s => $"{s}_present"),
        "sources_proposing", "blend_score", "blend_rank", "global_popularity", "segment_popularity", "age_days",
        "category_share", "tag_overlap", "price_distance", "history_log_length",
    ];

    /// <summary>
    /// The rows of a 3+ tier user's candidates (null for other tiers: their single source is served as it is).
    /// <paramref name="blend"/> is the tuned blend the <c>blend_score</c> feature is computed with.
    /// </summary>
    public CandidateRows? Extract(UserCandidates candidates, UserHistory history, BlendWeights blend)
    {
        if (candidates.Sources is not { } sources)
        {
            return null;
        }
        var ids = new HashSet<long>();
        foreach (var source in sources)
        {
            ids.UnionWith(Top(source, PerSource));
        }
        var ordered = ids.Order().ToArray();
        var profile = Profile(history);
        var rows = new float[ordered.Length][];
        var width = Count(sources.Length);
        for (var r = 0; r < ordered.Length; r++)
        {
            var id = ordered[r];
            var row = new float[width];
            var proposing = 0;
            var blendScore = 0f;
            for (var s = 0; s < sources.Length; s++)
            {
                if (sources[s].TryGetValue(id, out var score))
                {
                    row[s] = score;
                    row[sources.Length + s] = 1f;
                    proposing++;
                    blendScore += blend[s] * score;
                }
            }
            var f = 2 * sources.Length;
            row[f++] = proposing;
            row[f++] = blendScore;
            f++; // blend_rank, below
            row[f++] = _globalPopularity.GetValueOrDefault(id);
            row[f++] = candidates.Popular.GetValueOrDefault(id);
            var item = _snapshot.Catalog.Find(id);
            row[f++] = item is null ? -1f : (float)(candidates.Clock - item.CreatedAt).TotalDays;
            row[f++] = item is null ? 0f : profile.Categories.GetValueOrDefault(item.Category);
            var tagOverlap = 0f;
            if (item is not null)
            {
                foreach (var tag in item.Tags)
                {
                    tagOverlap += profile.Tags.GetValueOrDefault(tag);
                }
            }
            row[f++] = tagOverlap;
            row[f++] = item is null || profile.MeanPrice is not { } mean ? 0f : (float)Math.Abs((double)item.Price - mean) / (float)(1 + mean);
            row[f] = MathF.Log(1 + history.Seen.Count);
            rows[r] = row;
        }
        // The blend's order as a rank (1 = best): trees split on small integers exactly, while the top of a continuous
        // score falls into a few histogram bins and its fine order is lost.
        var blendColumn = 2 * sources.Length + 1;
        var byBlend = Enumerable.Range(0, rows.Length).OrderByDescending(r => rows[r][blendColumn]).ThenBy(r => ordered[r]).ToArray();
        for (var rank = 0; rank < byBlend.Length; rank++)
        {
            rows[byBlend[rank]][blendColumn + 1] = rank + 1;
        }
        return new CandidateRows(ordered, rows);
    }

    /// <summary>The <paramref name="count"/> best ids of a rank-scored source (ties by id, as the engine orders).</summary>
    private static IEnumerable<long> Top(Dictionary<long, float> source, int count)
    {
        if (source.Count <= count)
        {
            return source.Keys;
        }
        return source.OrderByDescending(p => p.Value).ThenBy(p => p.Key).Take(count).Select(p => p.Key);
    }

    private sealed record UserProfile(Dictionary<string, float> Categories, Dictionary<string, float> Tags, double? MeanPrice);

    /// <summary>Shares of the user's distinct items per category and per tag, and their mean price.</summary>
    private UserProfile Profile(UserHistory history)
    {
        var categories = new Dictionary<string, float>(StringComparer.Ordinal);
        var tags = new Dictionary<string, float>(StringComparer.Ordinal);
        double priceSum = 0;
        var known = 0;
        foreach (var id in history.Seen)
        {
            if (_snapshot.Catalog.Find(id) is not { } item)
            {
                continue;
            }
            known++;
            priceSum += (double)item.Price;
            categories[item.Category] = categories.GetValueOrDefault(item.Category) + 1;
            foreach (var tag in item.Tags)
            {
                tags[tag] = tags.GetValueOrDefault(tag) + 1;
            }
        }
        if (known > 0)
        {
            foreach (var key in categories.Keys.ToArray())
            {
                categories[key] /= known;
            }
            foreach (var key in tags.Keys.ToArray())
            {
                tags[key] /= known;
            }
        }
        return new UserProfile(categories, tags, known > 0 ? priceSum / known : null);
    }
}
