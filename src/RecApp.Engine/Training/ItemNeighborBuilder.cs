using RecApp.Engine.Metrics;
using RecApp.Engine.Domain;
using RecApp.Engine.Model;

namespace RecApp.Engine.Training;

/// <summary>
/// Top-K item neighbors. Collaborative: cosine over the (capped) user histories, times shrinkage
/// <c>n/(n+λ)</c> on the co-occurrence count, divided by <c>users(j)^damping</c> so very popular items do not
/// become everyone's neighbor. Content: Jaccard over {category} ∪ tags; candidates come from the tags' inverted index
/// (the most popular items of the same category fill in when tags give fewer than K), ties broken by popularity then id. Neither ever compares all pairs.
/// </summary>
public static class ItemNeighborBuilder
{
    public static ItemNeighborModel Build(Dataset dataset, RecommendationOptions options, DateTime asOf) =>
        Build(InteractionMatrix.Build(dataset, options, asOf), options);

    internal static ItemNeighborModel Build(InteractionMatrix matrix, RecommendationOptions options) =>
        new(ChooseCollaborative(matrix, options, out _), Content(matrix, options));

    /// <summary>
    /// Without tuning (<see cref="RecApp.Engine.TuningOptions.Budget"/> 0): item-kNN, or EASE where it can run; in
    /// <see cref="CollaborativeModel.Auto"/> both are built on a seeded 80/20 holdout of the training data and the one
    /// with the better nDCG@10 is rebuilt on everything. With tuning, <see cref="RecApp.Engine.Training.ModelTuner"/> chooses.
    /// </summary>
    internal static Dictionary<long, ScoredIds> ChooseCollaborative(InteractionMatrix matrix, RecommendationOptions options, out CollaborativeModel chosen)
    {
        if (options.Neighbors.CollaborativeModel == CollaborativeModel.Auto)
        {
            var (train, heldOut) = matrix.HoldOut(0.2, seed: 17);
            var users = heldOut.Keys.Order().Take(2000).ToArray();
            var ease = EaseBuilder.TryBuild(train, options, options.Neighbors.EaseNeighbors) is { } model ? HoldoutNdcg(train, heldOut, model, users) : -1;
            if (ease < 0 || HoldoutNdcg(train, heldOut, Collaborative(train, options), users) >= ease)
            {
                chosen = CollaborativeModel.Knn;
                return Collaborative(matrix, options);
            }
        }
        if (options.Neighbors.CollaborativeModel != CollaborativeModel.Knn && EaseBuilder.TryBuild(matrix, options, options.Neighbors.EaseNeighbors) is { } built)
        {
            chosen = CollaborativeModel.Ease;
            return built;
        }
        chosen = CollaborativeModel.Knn;
        return Collaborative(matrix, options);
    }

    /// <summary>Mean nDCG@10 of "sum of neighbor weights over the history" against the held-out items of <paramref name="users"/>.</summary>
    internal static double HoldoutNdcg(InteractionMatrix train, Dictionary<int, HashSet<int>> heldOut, Dictionary<long, ScoredIds> neighbors, int[] users)
    {
        const int k = 10;
        var perUser = new double[users.Length]; // summed in user order afterwards: the same total on every run
        Parallel.For(0, users.Length, index =>
        {
            var u = users[index];
            var seen = new HashSet<long>();
            var scores = new Dictionary<long, float>();
            for (var c = train.UserStart[u]; c < train.UserStart[u + 1]; c++)
            {
                seen.Add(train.ItemIds[train.CellItem[c]]);
            }
            for (var c = train.UserStart[u]; c < train.UserStart[u + 1]; c++)
            {
                if (neighbors.TryGetValue(train.ItemIds[train.CellItem[c]], out var list))
                {
                    for (var n = 0; n < list.Ids.Length; n++)
                    {
                        if (!seen.Contains(list.Ids[n]))
                        {
                            scores[list.Ids[n]] = scores.GetValueOrDefault(list.Ids[n]) + train.CellWeight[c] * list.Scores[n];
                        }
                    }
                }
            }
            var top = scores.OrderByDescending(p => p.Value).ThenBy(p => p.Key).Take(k).Select(p => p.Key).ToArray();
            var truth = heldOut[u].Select(i => train.ItemIds[i]).ToHashSet();
            perUser[index] = RankingMetrics.Ndcg(top, truth, k);
        });
        return users.Length == 0 ? 0 : perUser.Sum() / users.Length;
    }

    internal static Dictionary<long, ScoredIds> Collaborative(InteractionMatrix matrix, RecommendationOptions options)
    {
        var capped = matrix.Capped(options.Neighbors.MaxHistoryPerUser);
        var n = matrix.ItemCount;
        var norms = new float[n];
        var userCounts = new int[n];
        for (var i = 0; i < n; i++)
        {
            var sum = 0.0;
            for (var p = capped.ItemStart[i]; p < capped.ItemStart[i + 1]; p++)
            {
                sum += capped.ItemWeights[p] * capped.ItemWeights[p];
            }
            norms[i] = (float)Math.Sqrt(sum);
            userCounts[i] = capped.ItemStart[i + 1] - capped.ItemStart[i];
        }
        var damping = new float[n];
        for (var i = 0; i < n; i++)
        {
            damping[i] = userCounts[i] == 0 ? 0f : 1f / MathF.Pow(userCounts[i], options.Neighbors.PopularityDamping);
        }

        var results = new ScoredIds?[n];
        var scratches = new ScratchPool<Scratch>(() => new Scratch(n, options.Neighbors.ItemNeighbors));
        Parallel.For(0, n, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount },
            scratches.Rent,
            (i, _, s) =>
            {
                if (userCounts[i] == 0)
                {
                    return s;
                }
                // A hot item's users are sampled with a deterministic stride; the stride scales the sums back up so
                // cosine and shrinkage see estimates of the full counts.
                var from = capped.ItemStart[i];
                var length = capped.ItemStart[i + 1] - from;
                var stride = Math.Max(1, (length + options.Neighbors.MaxUsersPerItem - 1) / options.Neighbors.MaxUsersPerItem);
                for (var p = from; p < from + length; p += stride)
                {
                    var u = capped.ItemUsers[p];
                    var wi = capped.ItemWeights[p] * stride;
                    for (var c = capped.UserStart[u]; c < capped.UserStart[u + 1]; c++)
                    {
                        var j = capped.UserItems[c];
                        if (j == i)
                        {
                            continue;
                        }
                        if (s.Cells[j].Count == 0)
                        {
                            s.Touched.Add(j);
                        }
                        s.Cells[j].Count++;
                        s.Cells[j].Dot += wi * capped.UserWeights[c];
                    }
                }
                s.Top.Clear();
                foreach (var j in s.Touched)
                {
                    if (matrix.Items[j].Active)
                    {
                        var cosine = s.Cells[j].Dot / (norms[i] * norms[j]);
                        var together = s.Cells[j].Count * stride;
                        var shrunk = cosine * together / (together + options.Neighbors.Shrinkage);
                        s.Top.Add(j, shrunk * damping[j]);
                    }
                    s.Cells[j] = default;
                }
                s.Touched.Clear();
                results[i] = PopularityBuilder.ToScoredIds(s.Top, matrix.ItemIds);
                return s;
            },
            scratches.Return);
        return ToDictionary(matrix.ItemIds, results);
    }

    internal static Dictionary<long, ScoredIds> Content(InteractionMatrix matrix, RecommendationOptions options)
    {
        var items = matrix.Items;
        var n = items.Length;
        var (categoryOf, categoryNames) = PopularityBuilder.CategoryIndex(items);

        // Tags as sorted distinct ints; the category is compared directly (it is one feature, shared or not).
        var tagIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        var tagsOf = new int[n][];
        for (var i = 0; i < n; i++)
        {
            var set = new SortedSet<int>();
            foreach (var tag in items[i].Tags)
            {
                if (!tagIndex.TryGetValue(tag, out var t))
                {
                    tagIndex[tag] = t = tagIndex.Count;
                }
                set.Add(t);
            }
            tagsOf[i] = [.. set];
        }
        var featureCount = tagsOf.Select(t => t.Length + 1).ToArray();
        var (postingStart, postings) = Postings(tagsOf, tagIndex.Count, i => items[i].Active);
        bool IsCapped(int t) => postingStart[t + 1] - postingStart[t] > options.Neighbors.MaxContentPostingLength;

        // Per category, active items by popularity: the fill-in when tags give fewer than K candidates.
        var byCategory = Enumerable.Range(0, categoryNames.Length).Select(_ => new List<int>()).ToArray();
        for (var i = 0; i < n; i++)
        {
            if (items[i].Active)
            {
                byCategory[categoryOf[i]].Add(i);
            }
        }
        foreach (var list in byCategory)
        {
            list.Sort((a, b) => matrix.ItemUserCount[a] != matrix.ItemUserCount[b] ? matrix.ItemUserCount[b].CompareTo(matrix.ItemUserCount[a]) : a.CompareTo(b));
        }

        // Popularity as a tie-breaker among equal Jaccard scores: a tiny, order-preserving bonus.
        var maxUsers = Math.Max(1, matrix.ItemUserCount.Length == 0 ? 1 : matrix.ItemUserCount.Max());
        var k = options.Neighbors.ContentNeighbors;
        var results = new ScoredIds?[n];
        var scratches = new ScratchPool<Scratch>(() => new Scratch(n, k));
        Parallel.For(0, n, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount },
            scratches.Rent,
            (i, _, s) =>
            {
                if (!items[i].Active || k <= 0)
                {
                    return s;
                }
                var mine = tagsOf[i];
                var cappedMine = mine.Where(IsCapped).ToArray();
                foreach (var t in mine)
                {
                    if (IsCapped(t))
                    {
                        continue;
                    }
                    for (var p = postingStart[t]; p < postingStart[t + 1]; p++)
                    {
                        var j = postings[p];
                        if (j == i)
                        {
                            continue;
                        }
                        if (s.Cells[j].Count == 0)
                        {
                            s.Touched.Add(j);
                        }
                        s.Cells[j].Count++;
                    }
                }
                if (s.Touched.Count < k)
                {
                    foreach (var j in byCategory[categoryOf[i]])
                    {
                        if (s.Touched.Count >= k + 1)
                        {
                            break;
                        }
                        if (j != i && s.Cells[j].Count == 0)
                        {
                            s.Touched.Add(j);
                        }
                    }
                }
                s.Top.Clear();
                foreach (var j in s.Touched)
                {
                    var overlap = s.Cells[j].Count + (categoryOf[j] == categoryOf[i] ? 1 : 0);
                    foreach (var t in cappedMine)
                    {
                        if (Array.BinarySearch(tagsOf[j], t) >= 0)
                        {
                            overlap++;
                        }
                    }
                    if (overlap > 0)
                    {
                        var jaccard = (float)overlap / (featureCount[i] + featureCount[j] - overlap);
                        var tieBreak = 1e-4f * matrix.ItemUserCount[j] / maxUsers;
                        s.Top.Add(j, jaccard * (1f + tieBreak));
                    }
                    s.Cells[j] = default;
                }
                s.Touched.Clear();
                results[i] = PopularityBuilder.ToScoredIds(s.Top, matrix.ItemIds);
                return s;
            },
            scratches.Return);
        return ToDictionary(matrix.ItemIds, results);
    }

    /// <summary>Inverted index feature → items (those passing <paramref name="include"/>), as CSR.</summary>
    private static (int[] Start, int[] Items) Postings(int[][] featuresOf, int featureCount, Func<int, bool> include)
    {
        var start = new int[featureCount + 1];
        for (var i = 0; i < featuresOf.Length; i++)
        {
            if (include(i))
            {
                foreach (var f in featuresOf[i])
                {
                    start[f + 1]++;
                }
            }
        }
        for (var f = 0; f < featureCount; f++)
        {
            start[f + 1] += start[f];
        }
        var fill = (int[])start.Clone();
        var items = new int[start[featureCount]];
        for (var i = 0; i < featuresOf.Length; i++)
        {
            if (include(i))
            {
                foreach (var f in featuresOf[i])
                {
                    items[fill[f]++] = i;
                }
            }
        }
        return (start, items);
    }

    private static Dictionary<long, ScoredIds> ToDictionary(long[] ids, ScoredIds?[] results)
    {
        var dictionary = new Dictionary<long, ScoredIds>();
        for (var i = 0; i < results.Length; i++)
        {
            if (results[i] is { Ids.Length: > 0 } list)
            {
                dictionary[ids[i]] = list;
            }
        }
        return dictionary;
    }

    private sealed class Scratch(int items, int k)
    {
        public readonly Cell[] Cells = new Cell[items]; // dot and count side by side: one cache miss, not two
        public readonly List<int> Touched = [];
        public readonly TopK Top = new(k);
    }
}
