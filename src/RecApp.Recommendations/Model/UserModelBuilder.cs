using RecApp.Recommendations.Data;

namespace RecApp.Recommendations.Model;

/// <summary>
/// Per-user parts: profiles (weighted categories and tags, average price, event count) and neighbors (cosine over
/// recent histories, hot items sampled by a deterministic stride, shrinkage on the overlap), with the items those
/// neighbors have that the user may not: <c>Σ_v sim(u, v) · w(v, j)</c>, precomputed so scoring stays in memory.
/// </summary>
public static class UserModelBuilder
{
    public static ProfileModel BuildProfiles(Dataset dataset, RecommendationOptions options, DateTime asOf) =>
        BuildProfiles(InteractionMatrix.Build(dataset, options, asOf), options);

    public static UserNeighborModel BuildNeighbors(Dataset dataset, RecommendationOptions options, DateTime asOf) =>
        BuildNeighbors(InteractionMatrix.Build(dataset, options, asOf), options);

    internal static ProfileModel BuildProfiles(InteractionMatrix matrix, RecommendationOptions options)
    {
        var profiles = new UserProfile[matrix.UserCount];
        Parallel.For(0, matrix.UserCount, u =>
        {
            var categories = new Dictionary<string, float>(StringComparer.Ordinal);
            var tags = new Dictionary<string, float>(StringComparer.Ordinal);
            double weightSum = 0, priceSum = 0;
            for (var c = matrix.UserStart[u]; c < matrix.UserStart[u + 1]; c++)
            {
                var item = matrix.Items[matrix.CellItem[c]];
                var w = matrix.CellWeight[c];
                categories[item.Category] = categories.GetValueOrDefault(item.Category) + w;
                foreach (var tag in item.Tags)
                {
                    tags[tag] = tags.GetValueOrDefault(tag) + w;
                }
                weightSum += w;
                priceSum += w * (double)item.Price;
            }
            profiles[u] = new UserProfile(
                Normalize(categories, int.MaxValue),
                Normalize(tags, options.ProfileTags),
                weightSum > 0 ? Math.Round((decimal)(priceSum / weightSum), 2) : null,
                matrix.UserEventCount[u]);
        });
        var result = new Dictionary<long, UserProfile>(matrix.UserCount);
        for (var u = 0; u < matrix.UserCount; u++)
        {
            result[matrix.UserIds[u]] = profiles[u];
        }
        return new ProfileModel(result);
    }

    /// <summary>Top <paramref name="keep"/> weights, rescaled to sum to 1; ties by name.</summary>
    private static Dictionary<string, float> Normalize(Dictionary<string, float> weights, int keep)
    {
        var top = weights.OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal).Take(keep).ToArray();
        var sum = top.Sum(p => p.Value);
        return top.ToDictionary(p => p.Key, p => sum > 0 ? p.Value / sum : 0f, StringComparer.Ordinal);
    }

    internal static UserNeighborModel BuildNeighbors(InteractionMatrix matrix, RecommendationOptions options)
    {
        var capped = matrix.Capped(options.UserNeighborHistory);
        var userCount = matrix.UserCount;
        var norms = new float[userCount];
        for (var u = 0; u < userCount; u++)
        {
            var sum = 0.0;
            for (var c = capped.UserStart[u]; c < capped.UserStart[u + 1]; c++)
            {
                sum += capped.UserWeights[c] * capped.UserWeights[c];
            }
            norms[u] = (float)Math.Sqrt(sum);
        }

        var results = new UserNeighborhood?[userCount];
        Parallel.For(0, userCount, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount },
            () => new Scratch(Math.Max(userCount, matrix.ItemCount), options),
            (u, _, s) =>
            {
                for (var c = capped.UserStart[u]; c < capped.UserStart[u + 1]; c++)
                {
                    var item = capped.UserItems[c];
                    var wu = capped.UserWeights[c];
                    var from = capped.ItemStart[item];
                    var length = capped.ItemStart[item + 1] - from;
                    var stride = Math.Max(1, (length + options.UserNeighborItemUsers - 1) / options.UserNeighborItemUsers);
                    for (var p = from; p < from + length; p += stride)
                    {
                        var v = capped.ItemUsers[p];
                        if (v == u)
                        {
                            continue;
                        }
                        if (s.Count[v] == 0)
                        {
                            s.Touched.Add(v);
                        }
                        s.Count[v]++;
                        s.Dot[v] += wu * capped.ItemWeights[p];
                    }
                }
                s.Neighbors.Clear();
                foreach (var v in s.Touched)
                {
                    var cosine = s.Dot[v] / (norms[u] * norms[v]);
                    s.Neighbors.Add(v, cosine * s.Count[v] / (s.Count[v] + options.Shrinkage));
                    s.Dot[v] = 0f;
                    s.Count[v] = 0;
                }
                s.Touched.Clear();
                if (s.Neighbors.Count == 0)
                {
                    return s;
                }
                var (neighbors, similarities) = s.Neighbors.ToSorted();

                // Candidate items from the neighbors' full histories.
                for (var k = 0; k < neighbors.Length; k++)
                {
                    var v = neighbors[k];
                    for (var c = matrix.UserStart[v]; c < matrix.UserStart[v + 1]; c++)
                    {
                        var j = matrix.CellItem[c];
                        if (!matrix.Items[j].Active)
                        {
                            continue;
                        }
                        if (s.Count[j] == 0)
                        {
                            s.Touched.Add(j);
                            s.Count[j] = 1;
                        }
                        s.Dot[j] += similarities[k] * matrix.CellWeight[c];
                    }
                }
                s.Items.Clear();
                foreach (var j in s.Touched)
                {
                    s.Items.Add(j, s.Dot[j]);
                    s.Dot[j] = 0f;
                    s.Count[j] = 0;
                }
                s.Touched.Clear();

                var neighborIds = new long[neighbors.Length];
                for (var k = 0; k < neighbors.Length; k++)
                {
                    neighborIds[k] = matrix.UserIds[neighbors[k]];
                }
                results[u] = new UserNeighborhood(
                    new ScoredIds(neighborIds, similarities), PopularityBuilder.ToScoredIds(s.Items, matrix.ItemIds));
                return s;
            },
            _ => { });

        var dictionary = new Dictionary<long, UserNeighborhood>();
        for (var u = 0; u < userCount; u++)
        {
            if (results[u] is { } neighborhood)
            {
                dictionary[matrix.UserIds[u]] = neighborhood;
            }
        }
        return new UserNeighborModel(dictionary);
    }

    private sealed class Scratch(int size, RecommendationOptions options)
    {
        public readonly float[] Dot = new float[size];
        public readonly int[] Count = new int[size];
        public readonly List<int> Touched = [];
        public readonly TopK Neighbors = new(options.MaxSimilarUsers);
        public readonly TopK Items = new(options.UserNeighborItems);
    }
}
