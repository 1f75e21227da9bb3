using System.Buffers;
using RecApp.Engine.Domain;
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
    public RankedList Finish(ModelSnapshot snapshot, Dictionary<long, float> scores, Dictionary<long, float> popular, RecommendationAlgorithm algorithm, DateTime now)
    {
        // The boosted scores go straight into the array the order reads (scores itself is left as it was).
        var boost = options.Scoring.FreshnessBoost > 0 && options.Scoring.FreshnessDays > 0;
        var pairs = new (long Id, float Score)[scores.Count];
        var n = 0;
        foreach (var (id, score) in scores)
        {
            pairs[n++] = (id, boost ? score * Freshness(snapshot.Catalog, id, now) : score);
        }
        // A few pages beyond the list length leave the diversity re-rank room to defer items.
        var ranked = Order(pairs, options.Scoring.MaxResults * 4);
        var fill = ranked.Count < options.Scoring.MaxResults && popular.Count > 0 && !ReferenceEquals(scores, popular) ? Order(popular, int.MaxValue) : [];
        return Complete(snapshot, ranked, fill, scores.ContainsKey, algorithm);
    }

    /// <summary>The freshness factor of an item (1 when it is not new): <c>1 + FreshnessBoost × (1 − age / FreshnessDays)</c>.</summary>
    internal float Freshness(Catalog catalog, long id, DateTime now)
    {
        if (options.Scoring.FreshnessBoost > 0 && options.Scoring.FreshnessDays > 0 && catalog.Find(id) is { } item)
        {
            var age = (now - item.CreatedAt).TotalDays;
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
        Func<long, bool> ranks, RecommendationAlgorithm algorithm)
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
        var diverse = Diversify(snapshot.Catalog, ranked);
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
        var pairs = new (long Id, float Score)[scores.Count];
        var n = 0;
        foreach (var (id, score) in scores)
        {
            pairs[n++] = (id, score);
        }
        return Order(pairs, limit);
    }

    /// <summary>The best <paramref name="limit"/> pairs, by score descending then id ascending (reorders <paramref name="scores"/>).</summary>
    internal static List<(long Id, float Score)> Order(Span<(long Id, float Score)> scores, int limit)
    {
        static int Compare((long Id, float Score) a, (long Id, float Score) b) =>
            a.Score != b.Score ? b.Score.CompareTo(a.Score) : a.Id.CompareTo(b.Id);

        if (OrderByKeys(scores, limit) is { } fast)
        {
            return fast;
        }
        List<(long Id, float Score)> list;
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
            list = new List<(long Id, float Score)>(heap.Count);
            while (heap.Count > 0)
            {
                list.Add(heap.Dequeue());
            }
            list.Reverse();
            return list;
        }
        scores.Sort(Compare);
        list = new List<(long Id, float Score)>(Math.Min(limit, scores.Length));
        foreach (var pair in scores[..Math.Min(limit, scores.Length)])
        {
            list.Add(pair);
        }
        return list;
    }

    /// <summary>
    /// The same order as <c>Compare</c> (score descending, equal scores, −0 and +0 included, by id ascending) as one
    /// unsigned 64-bit key per pair, sorted with the primitive sort (no comparison delegate per step: scoring orders
    /// thousands of candidates per source per request). Keys are unique because ids are, so the result is the one
    /// total order whatever the algorithm. Null (the caller falls back) when a score is NaN or an id is outside
    /// [0, 2³²), where the key would not reproduce <c>Compare</c>.
    /// </summary>
    private static List<(long Id, float Score)>? OrderByKeys(Span<(long Id, float Score)> scores, int limit)
    {
        var count = Math.Min(Math.Max(limit, 0), scores.Length);
        if (scores.Length < 2)
        {
            return null;
        }
        var keys = ArrayPool<ulong>.Shared.Rent(scores.Length);
        var positions = ArrayPool<int>.Shared.Rent(scores.Length);
        try
        {
            for (var i = 0; i < scores.Length; i++)
            {
                var (id, score) = scores[i];
                if (float.IsNaN(score) || (ulong)id > uint.MaxValue)
                {
                    return null;
                }
                // Order-preserving bits of the score (−0 as +0: Compare treats them as equal), inverted for descending.
                var bits = BitConverter.SingleToUInt32Bits(score == 0f ? 0f : score);
                var ascending = (bits & 0x8000_0000u) != 0 ? ~bits : bits | 0x8000_0000u;
                keys[i] = ((ulong)~ascending << 32) | (uint)id;
                positions[i] = i;
            }
            if (count < scores.Length / 2)
            {
                // Only the first `count` are kept (the tuner keeps 40 of a user's thousands of candidates): select them,
                // then sort those. Keys are unique, so the result is the full sort's prefix.
                SelectSmallest(keys.AsSpan(0, scores.Length), positions.AsSpan(0, scores.Length), count);
                Array.Sort(keys, positions, 0, count);
            }
            else
            {
                Array.Sort(keys, positions, 0, scores.Length);
            }
            var list = new List<(long Id, float Score)>(count);
            for (var i = 0; i < count; i++)
            {
                list.Add(scores[positions[i]]);
            }
            return list;
        }
        finally
        {
            ArrayPool<int>.Shared.Return(positions);
            ArrayPool<ulong>.Shared.Return(keys);
        }
    }

    /// <summary>
    /// Moves the <paramref name="count"/> smallest of the distinct <paramref name="keys"/> (each with its position) to the
    /// front, in no particular order: quickselect with a median-of-three pivot, falling back to a sort should the
    /// partitions keep coming out lopsided.
    /// </summary>
    private static void SelectSmallest(Span<ulong> keys, Span<int> positions, int count)
    {
        var (left, right, target) = (0, keys.Length - 1, count - 1);
        for (var round = 0; left < right; round++)
        {
            if (round == 64)
            {
                keys[left..(right + 1)].Sort(positions[left..(right + 1)]);
                return;
            }
            var middle = left + (right - left) / 2;
            var (a, b, c) = (keys[left], keys[middle], keys[right]);
            var pivot = a < b ? (b < c ? b : a < c ? c : a) : (a < c ? a : b < c ? c : b);
            var (i, j) = (left, right);
            while (i <= j)
            {
                while (keys[i] < pivot)
                {
                    i++;
                }
                while (keys[j] > pivot)
                {
                    j--;
                }
                if (i <= j)
                {
                    (keys[i], keys[j]) = (keys[j], keys[i]);
                    (positions[i], positions[j]) = (positions[j], positions[i]);
                    i++;
                    j--;
                }
            }
            // [left, j] ≤ pivot ≤ [i, right]; anything between is the pivot itself.
            if (target <= j)
            {
                right = j;
            }
            else if (target >= i)
            {
                left = i;
            }
            else
            {
                return;
            }
        }
    }

    /// <summary>
    /// Fills pages of <see cref="RecApp.Engine.ScoringOptions.DiversityPageSize"/> in score order, deferring an item whose
    /// category already has its share of the page; deferred items lead the next page. When nothing else is left,
    /// the share is relaxed rather than leaving a page short.
    /// </summary>
    private List<(long Id, float Score)> Diversify(Catalog catalog, List<(long Id, float Score)> ranked)
    {
        var pageSize = Math.Max(1, options.Scoring.DiversityPageSize);
        var cap = Math.Max(1, (int)Math.Floor(options.Scoring.MaxCategoryShare * pageSize));
        if (cap >= pageSize || ranked.Count <= 1)
        {
            return ranked;
        }
        var limit = Math.Min(ranked.Count, options.Scoring.MaxResults);
        var result = new List<(long Id, float Score)>(limit);
        // Pending items are those not taken, in ranked order; `first` is the first of them. Categories are looked up once.
        var taken = new bool[ranked.Count];
        var categories = new string?[ranked.Count];
        var first = 0;
        var perCategory = new Dictionary<string, int>(StringComparer.Ordinal);
        void Take(int i)
        {
            taken[i] = true;
            result.Add(ranked[i]);
        }
        while (result.Count < limit)
        {
            perCategory.Clear();
            var pageEnd = Math.Min(limit, result.Count + pageSize);
            for (var i = first; i < ranked.Count && result.Count < pageEnd; i++)
            {
                if (taken[i])
                {
                    continue;
                }
                var category = categories[i] ??= catalog.Find(ranked[i].Id)?.Category ?? "";
                var used = perCategory.GetValueOrDefault(category);
                if (used < cap)
                {
                    perCategory[category] = used + 1;
                    Take(i);
                }
            }
            // Relax: not enough variety left to fill this page within the share.
            for (; result.Count < pageEnd; first++)
            {
                if (!taken[first])
                {
                    Take(first);
                }
            }
            while (first < ranked.Count && taken[first])
            {
                first++;
            }
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
