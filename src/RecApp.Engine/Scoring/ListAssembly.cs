using System.Buffers;
using RecApp.Engine.Domain;
using RecApp.Engine.Embeddings;
using RecApp.Engine.Model;

namespace RecApp.Engine.Scoring;

/// <summary>
/// Stage two's end, shared by every tier: the freshness boost (item age on the data's clock), a deterministic order
/// (score, then id), popular items filling a short list below everything personal, the diversity re-rank per page, and
/// the cut to <see cref="RecApp.Engine.ScoringOptions.MaxResults"/>.
/// </summary>
public sealed class ListAssembly(RecommendationOptions options)
{
    /// <summary>Freshness boost (item age measured from the data's clock), deterministic order, diversity, then popular items to fill a short list.</summary>
    public RankedList Finish(ModelSnapshot snapshot, Dictionary<long, float> scores, Dictionary<long, float> popular, RecommendationAlgorithm algorithm, DateTime now) =>
        Finish(snapshot, scores, popular, algorithm, now, ScoringScratch.None);

    /// <summary>The same with its working lists from <paramref name="scratch"/>.</summary>
    internal RankedList Finish(
        ModelSnapshot snapshot, Dictionary<long, float> scores, Dictionary<long, float> popular, RecommendationAlgorithm algorithm, DateTime now,
        ScoringScratch scratch)
    {
        // The boosted scores go straight into the array the order reads (scores itself is left as it was).
        var boost = options.Scoring.FreshnessBoost > 0 && options.Scoring.FreshnessDays > 0;
        var pairs = ArrayPool<(long Id, float Score)>.Shared.Rent(scores.Count);
        List<(long Id, float Score)> ranked;
        try
        {
            var n = 0;
            foreach (var (id, score) in scores)
            {
                pairs[n++] = (id, boost ? score * Freshness(snapshot.Catalog, id, now) : score);
            }
            // A few pages beyond the list length leave the diversity re-rank room to defer items.
            ranked = scratch.Pairs();
            var count = OrderInPlace(pairs.AsSpan(0, n), options.Scoring.MaxResults * 4);
            ranked.AddRange(pairs.AsSpan(0, count));
        }
        finally
        {
            ArrayPool<(long Id, float Score)>.Shared.Return(pairs);
        }
        var fill = ranked.Count < options.Scoring.MaxResults && popular.Count > 0 && !ReferenceEquals(scores, popular) ? Order(popular, int.MaxValue) : [];
        return Complete(snapshot, ranked, fill, scores.ContainsKey, algorithm, scratch);
    }

    /// <summary>The freshness factor of an item (1 when it is not new): <c>1 + FreshnessBoost × (1 − age / FreshnessDays)</c>.</summary>
    internal float Freshness(Catalog catalog, long id, DateTime now)
    {
        if (options.Scoring.FreshnessBoost > 0 && options.Scoring.FreshnessDays > 0 && catalog.TryGetCreatedAt(id, out var createdAt))
        {
            var age = (now - createdAt).TotalDays;
            if (age < options.Scoring.FreshnessDays)
            {
                return 1f + options.Scoring.FreshnessBoost * (float)(1 - Math.Max(age, 0) / options.Scoring.FreshnessDays);
            }
        }
        return 1f;
    }

    /// <summary>
    /// The end of stage two: popular items (best first) fill a short list below everything personal, then diversity and
    /// the cut to <see cref="RecApp.Engine.ScoringOptions.MaxResults"/>. <paramref name="ranked"/> is ordered, at most MaxResults × 4 long.
    /// </summary>
    internal RankedList Complete(ModelSnapshot snapshot, List<(long Id, float Score)> ranked, List<(long Id, float Score)> popular,
        Func<long, bool> ranks, RecommendationAlgorithm algorithm, ScoringScratch scratch)
    {
        if (ranked.Count < options.Scoring.MaxResults && popular.Count > 0)
        {
            // Below everything personal: popular items keep their order under the lowest personal score.
            var floor = ranked.Count == 0 ? 1f : Math.Max(ranked[^1].Score, 1e-6f);
            foreach (var (id, score) in popular)
            {
                if (!ranks(id))
                {
                    ranked.Add((id, floor * 0.5f * score));
                }
            }
        }
        var diverse = Diversify(snapshot.Catalog, ranked, scratch);
        var count = Math.Min(diverse.Count, options.Scoring.MaxResults);
        var ids = new long[count];
        var values = new float[count];
        for (var i = 0; i < count; i++)
        {
            (ids[i], values[i]) = diverse[i];
        }
        return new RankedList(ids, values, algorithm, snapshot.Version);
    }

    internal static List<(long Id, float Score)> Order(Dictionary<long, float> scores, int limit)
    {
        var pairs = ArrayPool<(long Id, float Score)>.Shared.Rent(scores.Count);
        try
        {
            return Order(pairs.AsSpan(0, CopyPairs(scores, pairs)), limit);
        }
        finally
        {
            ArrayPool<(long Id, float Score)>.Shared.Return(pairs);
        }
    }

    /// <summary>Copies the pairs of <paramref name="scores"/> into <paramref name="pairs"/>; returns how many.</summary>
    internal static int CopyPairs(Dictionary<long, float> scores, (long Id, float Score)[] pairs)
    {
        var n = 0;
        foreach (var (id, score) in scores)
        {
            pairs[n++] = (id, score);
        }
        return n;
    }

    /// <summary>The best <paramref name="limit"/> pairs, by score descending then id ascending (reorders <paramref name="scores"/>).</summary>
    internal static List<(long Id, float Score)> Order(Span<(long Id, float Score)> scores, int limit)
    {
        var count = OrderInPlace(scores, limit);
        var list = new List<(long Id, float Score)>(count);
        foreach (var pair in scores[..count])
        {
            list.Add(pair);
        }
        return list;
    }

    /// <summary>
    /// Reorders <paramref name="scores"/> so that it starts with its best <paramref name="limit"/> pairs, by score
    /// descending then id ascending; returns how many that is (no list made: scoring orders whole sources per request).
    /// </summary>
    internal static int OrderInPlace(Span<(long Id, float Score)> scores, int limit)
    {
        static int Compare((long Id, float Score) a, (long Id, float Score) b) =>
            a.Score != b.Score ? b.Score.CompareTo(a.Score) : a.Id.CompareTo(b.Id);

        var count = Math.Min(Math.Max(limit, 0), scores.Length);
        if (scores.Length >= 2 && OrderByKeys(scores, count))
        {
            return count;
        }
        if (limit < scores.Length / 4)
        {
            // The best `limit` of many: a bounded heap whose root is the worst kept pair, instead of sorting everything.
            var heap = new PriorityQueue<(long Id, float Score), (long Id, float Score)>(limit + 1,
                Comparer<(long Id, float Score)>.Create((a, b) => Compare(b, a)));
            foreach (var pair in scores)
            {
                if (heap.Count < limit)
                {
                    heap.Enqueue(pair, pair);
                }
                else if (limit > 0 && Compare(pair, heap.Peek()) < 0)
                {
                    heap.DequeueEnqueue(pair, pair);
                }
            }
            // The heap gives the worst kept pair first: fill the front from the back.
            count = heap.Count;
            for (var i = count - 1; i >= 0; i--)
            {
                scores[i] = heap.Dequeue();
            }
            return count;
        }
        scores.Sort(Compare);
        return count;
    }

    /// <summary>
    /// The same order as the comparison (see <see cref="BestFirst"/>) by one 64-bit key per pair: puts the best
    /// <paramref name="count"/> first. False, leaving <paramref name="scores"/> as it was, when a score is NaN or an id
    /// is outside [0, 2³²) (the caller falls back to comparisons).
    /// </summary>
    private static bool OrderByKeys(Span<(long Id, float Score)> scores, int count)
    {
        var keys = ArrayPool<ulong>.Shared.Rent(scores.Length);
        var positions = ArrayPool<int>.Shared.Rent(scores.Length);
        var best = ArrayPool<(long Id, float Score)>.Shared.Rent(count);
        try
        {
            for (var i = 0; i < scores.Length; i++)
            {
                if (!BestFirst.TryKey(scores[i].Id, scores[i].Score, out keys[i]))
                {
                    return false;
                }
                positions[i] = i;
            }
            BestFirst.SortBest(keys.AsSpan(0, scores.Length), positions.AsSpan(0, scores.Length), count);
            for (var i = 0; i < count; i++)
            {
                best[i] = scores[positions[i]];
            }
            best.AsSpan(0, count).CopyTo(scores);
            return true;
        }
        finally
        {
            ArrayPool<(long Id, float Score)>.Shared.Return(best);
            ArrayPool<int>.Shared.Return(positions);
            ArrayPool<ulong>.Shared.Return(keys);
        }
    }

    /// <summary>
    /// Fills pages of <see cref="RecApp.Engine.ScoringOptions.DiversityPageSize"/> in score order, deferring an item whose
    /// category already has its share of the page; deferred items lead the next page. When nothing else is left,
    /// the share is relaxed rather than leaving a page short.
    /// </summary>
    private List<(long Id, float Score)> Diversify(Catalog catalog, List<(long Id, float Score)> ranked, ScoringScratch scratch)
    {
        var pageSize = Math.Max(1, options.Scoring.DiversityPageSize);
        var cap = Math.Max(1, (int)Math.Floor(options.Scoring.MaxCategoryShare * pageSize));
        if (cap >= pageSize || ranked.Count <= 1)
        {
            return ranked;
        }
        var limit = Math.Min(ranked.Count, options.Scoring.MaxResults);
        var result = scratch.Pairs();
        result.EnsureCapacity(limit);
        // Pending items are those not taken, in ranked order; `first` is the first of them. Categories are looked up once.
        var taken = ArrayPool<bool>.Shared.Rent(ranked.Count);
        var categories = ArrayPool<int>.Shared.Rent(ranked.Count);
        // Counts per category number; a page resets only the counts it used (a catalog may have thousands of categories).
        var perCategory = ArrayPool<int>.Shared.Rent(catalog.CategoryCount);
        var used = ArrayPool<int>.Shared.Rent(pageSize);
        try
        {
            taken.AsSpan(0, ranked.Count).Clear();
            categories.AsSpan(0, ranked.Count).Fill(-1);
            perCategory.AsSpan(0, catalog.CategoryCount).Clear();
            var first = 0;
            while (result.Count < limit)
            {
                var pageEnd = Math.Min(limit, result.Count + pageSize);
                var usedCount = 0;
                for (var i = first; i < ranked.Count && result.Count < pageEnd; i++)
                {
                    if (taken[i])
                    {
                        continue;
                    }
                    if (categories[i] < 0)
                    {
                        categories[i] = catalog.CategoryNumber(ranked[i].Id);
                    }
                    ref var count = ref perCategory[categories[i]];
                    if (count < cap)
                    {
                        if (count++ == 0)
                        {
                            used[usedCount++] = categories[i];
                        }
                        taken[i] = true;
                        result.Add(ranked[i]);
                    }
                }
                foreach (var category in used.AsSpan(0, usedCount))
                {
                    perCategory[category] = 0;
                }
                // Relax: not enough variety left to fill this page within the share.
                for (; result.Count < pageEnd; first++)
                {
                    if (!taken[first])
                    {
                        taken[first] = true;
                        result.Add(ranked[first]);
                    }
                }
                while (first < ranked.Count && taken[first])
                {
                    first++;
                }
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(used);
            ArrayPool<int>.Shared.Return(perCategory);
            ArrayPool<int>.Shared.Return(categories);
            ArrayPool<bool>.Shared.Return(taken);
        }
        // Scores stay monotone for callers that read them as ranks.
        for (var i = 1; i < result.Count; i++)
        {
            if (result[i].Score > result[i - 1].Score)
            {
                result[i] = (result[i].Id, result[i - 1].Score);
            }
        }
        return result;
    }
}
