using RecApp.Engine.Domain;
using RecApp.Engine.Model;

namespace RecApp.Engine.Training;

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
        var (categoryOf, categoryNames) = PopularityBuilder.CategoryIndex(matrix.Items);
        var tagNames = new List<string>();
        var tagLookup = new Dictionary<string, int>(StringComparer.Ordinal);
        var tagsOf = new int[matrix.ItemCount][];
        for (var i = 0; i < matrix.ItemCount; i++)
        {
            var tags = matrix.Items[i].Tags;
            tagsOf[i] = new int[tags.Length];
            for (var t = 0; t < tags.Length; t++)
            {
                if (!tagLookup.TryGetValue(tags[t], out var index))
                {
                    tagLookup[tags[t]] = index = tagNames.Count;
                    tagNames.Add(tags[t]);
                }
                tagsOf[i][t] = index;
            }
        }
        var prices = matrix.Items.Select(i => (double)i.Price).ToArray();

        var profiles = new UserProfile[matrix.UserCount];
        Parallel.For(0, matrix.UserCount, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount },
            () => (Categories: new Accumulator(categoryNames.Length), Tags: new Accumulator(tagNames.Count)),
            (u, _, s) =>
            {
                double weightSum = 0, priceSum = 0;
                for (var c = matrix.UserStart[u]; c < matrix.UserStart[u + 1]; c++)
                {
                    var item = matrix.CellItem[c];
                    var w = matrix.CellWeight[c];
                    s.Categories.Add(categoryOf[item], w);
                    foreach (var tag in tagsOf[item])
                    {
                        s.Tags.Add(tag, w);
                    }
                    weightSum += w;
                    priceSum += w * prices[item];
                }
                profiles[u] = new UserProfile(
                    s.Categories.TakeNormalized(categoryNames, int.MaxValue),
                    s.Tags.TakeNormalized(tagNames, options.Neighbors.ProfileTags),
                    weightSum > 0 ? Math.Round((decimal)(priceSum / weightSum), 2) : null,
                    matrix.UserEventCount[u]);
                return s;
            },
            _ => { });
        var result = new Dictionary<long, UserProfile>(matrix.UserCount);
        for (var u = 0; u < matrix.UserCount; u++)
        {
            result[matrix.UserIds[u]] = profiles[u];
        }
        return new ProfileModel(result);
    }

    /// <summary>Dense weights with a touched list: no dictionary work per event.</summary>
    private sealed class Accumulator(int size)
    {
        private readonly float[] _weights = new float[size];
        private readonly List<int> _touched = [];

        public void Add(int index, float weight)
        {
            if (_weights[index] == 0f)
            {
                _touched.Add(index);
            }
            _weights[index] += weight;
        }

        /// <summary>Top <paramref name="keep"/> weights rescaled to sum to 1 (ties by name), then resets.</summary>
        public Dictionary<string, float> TakeNormalized(IReadOnlyList<string> names, int keep)
        {
            var weights = _weights;
            _touched.Sort((a, b) => weights[a] != weights[b] ? weights[b].CompareTo(weights[a]) : string.CompareOrdinal(names[a], names[b]));
            var count = Math.Min(keep, _touched.Count);
            var sum = 0f;
            for (var k = 0; k < count; k++)
            {
                sum += weights[_touched[k]];
            }
            var result = new Dictionary<string, float>(count, StringComparer.Ordinal);
            for (var k = 0; k < count; k++)
            {
                result[names[_touched[k]]] = sum > 0 ? weights[_touched[k]] / sum : 0f;
            }
            foreach (var index in _touched)
            {
                weights[index] = 0f;
            }
            _touched.Clear();
            return result;
        }
    }

    internal static UserNeighborModel BuildNeighbors(InteractionMatrix matrix, RecommendationOptions options)
    {
        var capped = matrix.Capped(options.Neighbors.UserNeighborHistory);
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

        var results = new (ScoredIds Neighbors, ScoredIds Items)?[userCount];
        var scratches = new ScratchPool<Scratch>(() => new Scratch(Math.Max(userCount, matrix.ItemCount), options));
        Parallel.For(0, userCount, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount },
            scratches.Rent,
            (u, _, s) =>
            {
                // Only the 3+ tier blends user neighbors: users with fewer distinct items never need them.
                if (matrix.UserStart[u + 1] - matrix.UserStart[u] < options.Neighbors.UserNeighborMinItems)
                {
                    return s;
                }
                for (var c = capped.UserStart[u]; c < capped.UserStart[u + 1]; c++)
                {
                    var item = capped.UserItems[c];
                    var wu = capped.UserWeights[c];
                    var from = capped.ItemStart[item];
                    var length = capped.ItemStart[item + 1] - from;
                    var stride = Math.Max(1, (length + options.Neighbors.UserNeighborItemUsers - 1) / options.Neighbors.UserNeighborItemUsers);
                    for (var p = from; p < from + length; p += stride)
                    {
                        var v = capped.ItemUsers[p];
                        if (v == u)
                        {
                            continue;
                        }
                        if (s.Cells[v].Count == 0)
                        {
                            s.Touched.Add(v);
                        }
                        s.Cells[v].Count++;
                        s.Cells[v].Dot += wu * capped.ItemWeights[p];
                    }
                }
                s.Neighbors.Clear();
                foreach (var v in s.Touched)
                {
                    var cosine = s.Cells[v].Dot / (norms[u] * norms[v]);
                    s.Neighbors.Add(v, cosine * s.Cells[v].Count / (s.Cells[v].Count + options.Neighbors.Shrinkage));
                    s.Cells[v] = default;
                }
                s.Touched.Clear();
                if (s.Neighbors.Count == 0)
                {
                    return s;
                }
                var (neighbors, similarities) = s.Neighbors.ToSorted();

                // Candidate items from the neighbors' recent histories.
                for (var k = 0; k < neighbors.Length; k++)
                {
                    var v = neighbors[k];
                    for (var c = capped.UserStart[v]; c < capped.UserStart[v + 1]; c++)
                    {
                        var j = capped.UserItems[c];
                        if (!matrix.Items[j].Active)
                        {
                            continue;
                        }
                        if (s.Cells[j].Count == 0)
                        {
                            s.Touched.Add(j);
                            s.Cells[j].Count = 1;
                        }
                        s.Cells[j].Dot += similarities[k] * capped.UserWeights[c];
                    }
                }
                s.Items.Clear();
                foreach (var j in s.Touched)
                {
                    s.Items.Add(j, s.Cells[j].Dot);
                    s.Cells[j] = default;
                }
                s.Touched.Clear();

                var neighborIds = new long[neighbors.Length];
                for (var k = 0; k < neighbors.Length; k++)
                {
                    neighborIds[k] = matrix.UserIds[neighbors[k]];
                }
                results[u] = (new ScoredIds(neighborIds, similarities), PopularityBuilder.ToScoredIds(s.Items, matrix.ItemIds));
                return s;
            },
            scratches.Return);

        var model = new UserNeighborModel.Builder(
            results.Count(r => r is not null), results.Sum(r => r is { } row ? (long)row.Items.Ids.Length : 0));
        for (var u = 0; u < userCount; u++)
        {
            if (results[u] is { } row)
            {
                model.Add(matrix.UserIds[u], row.Items.Ids, row.Items.Scores, row.Neighbors);
                results[u] = null; // copied: not held twice at the job's peak
            }
        }
        return model.Build();
    }

    private sealed class Scratch(int size, RecommendationOptions options)
    {
        public readonly Cell[] Cells = new Cell[size]; // dot and count side by side: one cache miss, not two
        public readonly List<int> Touched = [];
        public readonly TopK Neighbors = new(options.Neighbors.MaxSimilarUsers);
        public readonly TopK Items = new(options.Neighbors.UserNeighborItems);
    }
}
