using RecApp.Engine.Domain;
using RecApp.Engine.Model;

namespace RecApp.Engine.Training;

/// <summary>
/// Popular items per demographic segment and trending items. A segment is any subset of (geo, gender, age group)
/// of the user side, each optionally narrowed to one category on the item side. Segments with fewer than
/// <see cref="RecApp.Engine.PopularityOptions.MinSegmentUsers"/> users are thin and not stored; per-category lists are
/// stored for the global segment and one-dimension segments (multi-dimension segments filter their overall list).
/// The lookup order is <see cref="Demographics.FallbackChain"/>.
/// </summary>
public static class PopularityBuilder
{
    public static PopularityModel BuildPopularity(Dataset dataset, RecommendationOptions options, DateTime asOf) =>
        BuildPopularity(InteractionMatrix.Build(dataset, options.ForPopularity(), asOf), dataset.Users, options);

    internal static PopularityModel BuildPopularity(InteractionMatrix matrix, IReadOnlyList<UserDemographics> users, RecommendationOptions options)
    {
        var demographics = new UserDemographics?[matrix.UserCount];
        foreach (var user in users)
        {
            if (matrix.UserIndex.TryGetValue(user.Id, out var index))
            {
                demographics[index] = user;
            }
        }
        var (categoryOf, categoryNames) = CategoryIndex(matrix.Items);

        // Group users per segment, for every subset of dimensions.
        var groups = new List<(Demographics Demographics, SegmentDimensions Mask, List<int> Users)>();
        foreach (var mask in Demographics.Chain)
        {
            var byKey = new Dictionary<Demographics, List<int>>();
            for (var u = 0; u < matrix.UserCount; u++)
            {
                var d = demographics[u];
                if ((mask != SegmentDimensions.None && d is null) || Demographics.At(mask, d?.GeoId, d?.Gender, d?.AgeGroup) is not { } key)
                {
                    continue;
                }
                if (!byKey.TryGetValue(key, out var list))
                {
                    byKey[key] = list = [];
                }
                list.Add(u);
            }
            foreach (var (key, list) in byKey)
            {
                if (mask == SegmentDimensions.None || list.Count >= options.Popularity.MinSegmentUsers)
                {
                    groups.Add((key, mask, list));
                }
            }
        }

        var results = new List<KeyValuePair<Demographics, ScoredIds>>[groups.Count];
        var scratches = new ScratchPool<float[]>(() => new float[matrix.ItemCount]);
        Parallel.For(0, groups.Count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount },
            scratches.Rent,
            (g, _, scratch) =>
            {
                var (segment, mask, members) = groups[g];
                var touched = new List<int>();
                foreach (var u in members)
                {
                    for (var c = matrix.UserStart[u]; c < matrix.UserStart[u + 1]; c++)
                    {
                        var item = matrix.CellItem[c];
                        if (!matrix.Items[item].Active)
                        {
                            continue;
                        }
                        if (scratch[item] == 0f)
                        {
                            touched.Add(item);
                        }
                        scratch[item] += matrix.CellWeight[c];
                    }
                }
                var output = new List<KeyValuePair<Demographics, ScoredIds>>();
                var overall = new TopK(options.Popularity.ListSize);
                foreach (var item in touched)
                {
                    overall.Add(item, scratch[item]);
                }
                output.Add(new(segment, ToScoredIds(overall, matrix.ItemIds)));
                if (BitCount(mask) <= 1)
                {
                    var perCategory = new Dictionary<int, TopK>();
                    foreach (var item in touched)
                    {
                        if (!perCategory.TryGetValue(categoryOf[item], out var top))
                        {
                            perCategory[categoryOf[item]] = top = new TopK(options.Popularity.CategoryListSize);
                        }
                        top.Add(item, scratch[item]);
                    }
                    foreach (var (category, top) in perCategory)
                    {
                        output.Add(new(segment with { Category = categoryNames[category] }, ToScoredIds(top, matrix.ItemIds)));
                    }
                }
                foreach (var item in touched)
                {
                    scratch[item] = 0f;
                }
                results[g] = output;
                return scratch;
            },
            scratches.Return);

        var lists = new Dictionary<Demographics, ScoredIds>();
        foreach (var output in results)
        {
            foreach (var (segment, list) in output)
            {
                lists[segment] = list;
            }
        }
        return new PopularityModel(lists);
    }

    /// <summary>
    /// Events of the last <see cref="RecApp.Engine.PopularityOptions.TrendingDays"/>, decayed with the trending half-life.
    /// <paramref name="include"/>, when given, leaves events out (the tuner's held-out ones) without copying the rest.
    /// </summary>
    public static TrendingModel BuildTrending(Dataset dataset, RecommendationOptions options, DateTime asOf, Func<Interaction, bool>? include = null)
    {
        var items = dataset.Items.OrderBy(i => i.Id).ToArray();
        var index = new Dictionary<long, int>(items.Length);
        for (var i = 0; i < items.Length; i++)
        {
            index[items[i].Id] = i;
        }
        var scores = new double[items.Length]; // double: sums that do not depend on the order events are read in
        var since = asOf.AddDays(-options.Popularity.TrendingDays);
        foreach (var e in dataset.Interactions)
        {
            if (e.OccurredAt < since || e.OccurredAt > asOf || !index.TryGetValue(e.ItemId, out var item) || !items[item].Active
                || (include is not null && !include(e)))
            {
                continue;
            }
            var ageDays = (asOf - e.OccurredAt).TotalDays;
            var decay = options.Popularity.TrendingHalfLifeDays <= 0 ? 1.0 : Math.Pow(0.5, ageDays / options.Popularity.TrendingHalfLifeDays);
            scores[item] += options.EventWeight(e.Type, e.Value) * decay;
        }
        var ids = items.Select(i => i.Id).ToArray();
        var overall = new TopK(options.Popularity.TrendingListSize);
        var perCategory = new Dictionary<string, TopK>(StringComparer.Ordinal);
        for (var i = 0; i < scores.Length; i++)
        {
            if (scores[i] <= 0)
            {
                continue;
            }
            var score = (float)scores[i];
            overall.Add(i, score);
            if (!perCategory.TryGetValue(items[i].Category, out var top))
            {
                perCategory[items[i].Category] = top = new TopK(options.Popularity.TrendingListSize);
            }
            top.Add(i, score);
        }
        return new TrendingModel(
            ToScoredIds(overall, ids),
            perCategory.ToDictionary(p => p.Key, p => ToScoredIds(p.Value, ids), StringComparer.Ordinal));
    }

    internal static (int[] CategoryOf, string[] Names) CategoryIndex(CatalogItem[] items)
    {
        var names = new List<string>();
        var lookup = new Dictionary<string, int>(StringComparer.Ordinal);
        var categoryOf = new int[items.Length];
        for (var i = 0; i < items.Length; i++)
        {
            if (!lookup.TryGetValue(items[i].Category, out var c))
            {
                lookup[items[i].Category] = c = names.Count;
                names.Add(items[i].Category);
            }
            categoryOf[i] = c;
        }
        return (categoryOf, names.ToArray());
    }

    internal static ScoredIds ToScoredIds(TopK top, long[] ids)
    {
        var (indices, scores) = top.ToSorted();
        var result = new long[indices.Length];
        for (var i = 0; i < indices.Length; i++)
        {
            result[i] = ids[indices[i]];
        }
        return new ScoredIds(result, scores);
    }

    private static int BitCount(SegmentDimensions mask) => System.Numerics.BitOperations.PopCount((uint)mask);
}
