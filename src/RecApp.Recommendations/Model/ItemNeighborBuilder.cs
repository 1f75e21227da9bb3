using RecApp.Recommendations.Data;

namespace RecApp.Recommendations.Model;

/// <summary>
/// Top-K item neighbors. Collaborative: cosine over the (capped) user histories, times shrinkage
/// <c>n/(n+λ)</c> on the co-occurrence count, divided by <c>users(j)^damping</c> so very popular items do not
/// become everyone's neighbor. Content: Jaccard over {category} ∪ tags, found through an inverted index, ties
/// broken by popularity then id. Neither ever compares all pairs.
/// </summary>
public static class ItemNeighborBuilder
{
    public static ItemNeighborModel Build(Dataset dataset, RecommendationOptions options, DateTime asOf) =>
        Build(InteractionMatrix.Build(dataset, options, asOf), options);

    internal static ItemNeighborModel Build(InteractionMatrix matrix, RecommendationOptions options) =>
        new(Collaborative(matrix, options), Content(matrix, options));

    internal static Dictionary<long, ScoredIds> Collaborative(InteractionMatrix matrix, RecommendationOptions options)
    {
        var capped = matrix.Capped(options.MaxHistoryPerUser);
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
            damping[i] = userCounts[i] == 0 ? 0f : 1f / MathF.Pow(userCounts[i], options.PopularityDamping);
        }

        var results = new ScoredIds?[n];
        Parallel.For(0, n, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount },
            () => new Scratch(n, options.ItemNeighbors),
            (i, _, s) =>
            {
                if (userCounts[i] == 0)
                {
                    return s;
                }
                for (var p = capped.ItemStart[i]; p < capped.ItemStart[i + 1]; p++)
                {
                    var u = capped.ItemUsers[p];
                    var wi = capped.ItemWeights[p];
                    for (var c = capped.UserStart[u]; c < capped.UserStart[u + 1]; c++)
                    {
                        var j = capped.UserItems[c];
                        if (j == i)
                        {
                            continue;
                        }
                        if (s.Count[j] == 0)
                        {
                            s.Touched.Add(j);
                        }
                        s.Count[j]++;
                        s.Dot[j] += wi * capped.UserWeights[c];
                    }
                }
                s.Top.Clear();
                foreach (var j in s.Touched)
                {
                    if (matrix.Items[j].Active)
                    {
                        var cosine = s.Dot[j] / (norms[i] * norms[j]);
                        var shrunk = cosine * s.Count[j] / (s.Count[j] + options.Shrinkage);
                        s.Top.Add(j, shrunk * damping[j]);
                    }
                    s.Dot[j] = 0f;
                    s.Count[j] = 0;
                }
                s.Touched.Clear();
                results[i] = PopularityBuilder.ToScoredIds(s.Top, matrix.ItemIds);
                return s;
            },
            _ => { });
        return ToDictionary(matrix.ItemIds, results);
    }

    internal static Dictionary<long, ScoredIds> Content(InteractionMatrix matrix, RecommendationOptions options)
    {
        var items = matrix.Items;
        var n = items.Length;
        // Features: category c → c, tag t → categories + t. Each item's features sorted and distinct.
        var (categoryOf, categoryNames) = PopularityBuilder.CategoryIndex(items);
        var tagIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        var features = new int[n][];
        for (var i = 0; i < n; i++)
        {
            var set = new SortedSet<int> { categoryOf[i] };
            foreach (var tag in items[i].Tags)
            {
                if (!tagIndex.TryGetValue(tag, out var t))
                {
                    tagIndex[tag] = t = tagIndex.Count;
                }
                set.Add(categoryNames.Length + t);
            }
            features[i] = [.. set];
        }
        var featureCount = categoryNames.Length + tagIndex.Count;
        var postingLength = new int[featureCount + 1];
        for (var i = 0; i < n; i++)
        {
            if (!items[i].Active)
            {
                continue;
            }
            foreach (var f in features[i])
            {
                postingLength[f + 1]++;
            }
        }
        var postingStart = new int[featureCount + 1];
        for (var f = 0; f < featureCount; f++)
        {
            postingStart[f + 1] = postingStart[f] + postingLength[f + 1];
        }
        var fill = (int[])postingStart.Clone();
        var postings = new int[postingStart[featureCount]];
        for (var i = 0; i < n; i++)
        {
            if (items[i].Active)
            {
                foreach (var f in features[i])
                {
                    postings[fill[f]++] = i;
                }
            }
        }
        bool IsCapped(int f) => postingStart[f + 1] - postingStart[f] > options.MaxContentPostingLength;

        // Popularity as a tie-breaker among equal Jaccard scores: a tiny, order-preserving bonus.
        var maxUsers = Math.Max(1, matrix.ItemUserCount.Length == 0 ? 1 : matrix.ItemUserCount.Max());
        var results = new ScoredIds?[n];
        Parallel.For(0, n, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount },
            () => new Scratch(n, options.ContentNeighbors),
            (i, _, s) =>
            {
                if (!items[i].Active)
                {
                    return s;
                }
                var mine = features[i];
                foreach (var f in mine)
                {
                    if (IsCapped(f))
                    {
                        continue;
                    }
                    for (var p = postingStart[f]; p < postingStart[f + 1]; p++)
                    {
                        var j = postings[p];
                        if (j == i)
                        {
                            continue;
                        }
                        if (s.Count[j] == 0)
                        {
                            s.Touched.Add(j);
                        }
                        s.Count[j]++;
                    }
                }
                s.Top.Clear();
                foreach (var j in s.Touched)
                {
                    var overlap = s.Count[j];
                    foreach (var f in mine)
                    {
                        if (IsCapped(f) && Array.BinarySearch(features[j], f) >= 0)
                        {
                            overlap++;
                        }
                    }
                    var jaccard = (float)overlap / (mine.Length + features[j].Length - overlap);
                    var tieBreak = 1e-4f * matrix.ItemUserCount[j] / maxUsers;
                    s.Top.Add(j, jaccard * (1f + tieBreak));
                    s.Count[j] = 0;
                }
                s.Touched.Clear();
                results[i] = PopularityBuilder.ToScoredIds(s.Top, matrix.ItemIds);
                return s;
            },
            _ => { });
        return ToDictionary(matrix.ItemIds, results);
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
        public readonly float[] Dot = new float[items];
        public readonly int[] Count = new int[items];
        public readonly List<int> Touched = [];
        public readonly TopK Top = new(k);
    }
}
