using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using RecApp.Engine.Model;

namespace RecApp.Engine.Scoring;

/// <summary>
/// Item neighbors (item-kNN or EASE, whichever the build chose): each history item's collaborative neighbors, weighted by
/// how much the item weighs in the history. Items the history argues against (EASE's negative weights) are no candidates.
/// </summary>
public sealed class ItemNeighborSource : ICandidateSource
{
    public string Name => BlendWeights.ItemNeighborsSource;

    public Dictionary<long, float> Propose(CandidateContext context) => RankFusion.Positive(Raw(context));

    /// <summary>The summed neighbor scores, negative ones included (the source alone, in offline evaluation).</summary>
    public Dictionary<long, float> Raw(CandidateContext context) =>
        Sum(context.Snapshot.ItemNeighbors.Collaborative, context.History, context.Allowed, context.Scratch.Scores());

    /// <summary>For each weighted item, its neighbors' scores times its weight, summed per neighbor into <paramref name="scores"/> (empty).</summary>
    internal static Dictionary<long, float> Sum(
        IReadOnlyDictionary<long, ScoredIds> neighbors, IReadOnlyDictionary<long, float> weights, Func<long, bool> allowed,
        Dictionary<long, float> scores)
    {
        foreach (var (itemId, weight) in weights)
        {
            if (!neighbors.TryGetValue(itemId, out var list))
            {
                continue;
            }
            for (var k = 0; k < list.Ids.Length; k++)
            {
                var id = list.Ids[k];
                // An id already summed was admitted before (allowed is fixed for the request): one lookup, no second check.
                ref var sum = ref CollectionsMarshal.GetValueRefOrNullRef(scores, id);
                if (!Unsafe.IsNullRef(ref sum))
                {
                    sum += weight * list.Scores[k];
                }
                else if (allowed(id))
                {
                    scores[id] = 0f + weight * list.Scores[k];
                }
            }
        }
        return scores;
    }
}
