using System.Buffers;
using System.Runtime.InteropServices;
using RecApp.Engine.Model;

namespace RecApp.Engine.Scoring;

/// <summary>
/// How the blend tier mixes its sources: each source's candidates scored by rank (reciprocal rank fusion), then a
/// weighted sum with the build's weights; and the small score operations the tiers share.
/// </summary>
public static class RankFusion
{
    /// <summary>
    /// Replaces scores by reciprocal-rank scores <c>(c + 1) / (c + rank)</c> (rank 1 = best, ties by id): 1 for the best,
    /// a slow fade after, whatever the shape of the raw scores (Cormack et al. 2009, reciprocal rank fusion).
    /// </summary>
    public static Dictionary<long, float> RankScores(Dictionary<long, float> scores, float rankConstant)
    {
        var c = Math.Max(rankConstant, 0f);
        var ranked = ArrayPool<(long Id, float Score)>.Shared.Rent(scores.Count);
        try
        {
            var count = ListAssembly.OrderInPlace(ranked.AsSpan(0, ListAssembly.CopyPairs(scores, ranked)), int.MaxValue);
            for (var rank = 1; rank <= count; rank++)
            {
                scores[ranked[rank - 1].Id] = (c + 1) / (c + rank);
            }
        }
        finally
        {
            ArrayPool<(long Id, float Score)>.Shared.Return(ranked);
        }
        return scores;
    }

    /// <summary>
    /// Drops items whose collaborative score is not positive: EASE's negative weights push items down, and an item the
    /// history argues against is no candidate (and no "similar item").
    /// </summary>
    internal static Dictionary<long, float> Positive(Dictionary<long, float> scores)
    {
        foreach (var (id, score) in scores)
        {
            if (score <= 0f)
            {
                scores.Remove(id);
            }
        }
        return scores;
    }

    internal static Dictionary<long, float> Normalize(Dictionary<long, float> scores)
    {
        var max = 0f;
        foreach (var value in scores.Values)
        {
            max = Math.Max(max, value);
        }
        if (max > 0f)
        {
            // Values change in place (no key added or removed), so the enumeration stays valid.
            foreach (var (key, _) in scores)
            {
                CollectionsMarshal.GetValueRefOrNullRef(scores, key) /= max;
            }
        }
        return scores;
    }

    internal static Dictionary<long, float> Blend(params (Dictionary<long, float> Scores, float Weight)[] sources)
    {
        var blended = new Dictionary<long, float>();
        foreach (var (scores, weight) in sources)
        {
            foreach (var (id, score) in scores)
            {
                blended[id] = blended.GetValueOrDefault(id) + weight * score;
            }
        }
        return blended;
    }

    /// <summary>
    /// The weighted sum of rank-scored sources, added in source order (fixed: the sum's float result depends on it);
    /// sources with weight 0 take no part. Into <paramref name="final"/> (empty).
    /// </summary>
    internal static Dictionary<long, float> WeightedSum(Dictionary<long, float>[] sources, BlendWeights weights, Dictionary<long, float> final)
    {
        final.EnsureCapacity(sources[0].Count + sources[BlendWeights.IndexOf(BlendWeights.PopularSource)].Count);
        for (var s = 0; s < sources.Length; s++)
        {
            var weight = weights[s];
            if (weight == 0f)
            {
                continue;
            }
            foreach (var (id, score) in sources[s])
            {
                ref var sum = ref CollectionsMarshal.GetValueRefOrAddDefault(final, id, out _);
                sum += weight * score;
            }
        }
        return final;
    }
}
