using RecApp.Engine;
using RecApp.Engine.Domain;
using RecApp.Engine.Embeddings;
using RecApp.Engine.Model;


namespace RecApp.Engine.Scoring;

/// <summary>Which candidate source to rank by: the production hybrid, or one source alone (offline evaluation).</summary>
public enum CandidateSource
{
    Hybrid,
    Popular,
    Content,
    ItemKnn,
    UserKnn,
    Embeddings,
}

/// <summary>
/// Pure scoring over a <see cref="ModelSnapshot"/> and the user's fresh history (no I/O), in two stages. Candidates:
/// popularity (segment, trending), content neighbors and profile, item neighbors (kNN or EASE), user neighbors, and
/// embeddings (the history folded into a user vector, top items by dot product).
/// Ranking: by tier (0 → popular, 1–2 → content-led, 3+ → the blend the build learned, <see cref="ModelTuning.Blend"/>),
/// seen items excluded, filters, inactive items; freshness boost; diversity re-rank; deterministic order (score, then id).
/// Time is the data's clock (<see cref="Clock"/>), never the wall clock.
/// </summary>
public sealed class ScoringEngine(RecommendationOptions options)
{
    public RankedList ForUser(
        ModelSnapshot snapshot, long userId, IReadOnlyList<HistoryEvent> history, Demographics demographics,
        RecommendationFilters filters, DateTime now, CandidateSource source = CandidateSource.Hybrid) =>
        ForUser(snapshot, userId, UserHistory.From(history, int.MaxValue), demographics, filters, now, source);

    public RankedList ForUser(
        ModelSnapshot snapshot, long userId, UserHistory history, Demographics demographics,
        RecommendationFilters filters, DateTime now, CandidateSource source = CandidateSource.Hybrid)
    {
        var candidates = Candidates(snapshot, userId, history, demographics, filters, now, source);
        return Rank(snapshot, candidates, snapshot.Tuning.Blend ?? BlendWeights.From(options));
    }

    /// <summary>
    /// The instant time is measured from: the newest interaction the model saw, or the user's own newest event when it is
    /// later (fresh events since the build); the wall clock only when there is neither.
    /// </summary>
    public static DateTime Clock(ModelSnapshot snapshot, IReadOnlyList<HistoryEvent> recent, DateTime now)
    {
        DateTime? clock = snapshot.Tuning.DataClock;
        foreach (var e in recent)
        {
            if (clock is null || e.OccurredAt > clock)
            {
                clock = e.OccurredAt;
            }
        }
        return clock ?? now;
    }

    /// <summary>Stage one: every source's candidates for the user (rank-scored for the blend), and the tier.</summary>
    internal UserCandidates Candidates(
        ModelSnapshot snapshot, long userId, UserHistory history, Demographics demographics,
        RecommendationFilters filters, DateTime now, CandidateSource source = CandidateSource.Hybrid)
    {
        var clock = Clock(snapshot, history.Recent, now);
        var weights = AggregateHistory(history.Recent, clock, snapshot.Tuning.DecayHalfLifeDays ?? options.DecayHalfLifeDays);
        var seen = history.Seen;
        var distinct = Math.Max(seen.Count, weights.Count);
        var tier = UserTier.Of(distinct);
        var catalog = snapshot.Catalog;
        bool Allowed(long id) => !seen.Contains(id) && !weights.ContainsKey(id) && filters.Admits(catalog.Find(id));

        var popular = PopularScores(snapshot, demographics with { Category = filters.Category ?? demographics.Category }, filters, Allowed);
        var result = new UserCandidates(clock, popular);
        switch (source)
        {
            case CandidateSource.Popular:
                (result.Single, result.Algorithm) = (popular, RecommendationAlgorithm.Popular);
                break;
            case CandidateSource.Content:
                (result.Single, result.Algorithm) = (Normalize(ContentScores(snapshot, userId, weights, Allowed)), RecommendationAlgorithm.Content);
                break;
            case CandidateSource.ItemKnn:
                (result.Single, result.Algorithm) = (Normalize(NeighborScores(snapshot.ItemNeighbors.Collaborative, weights, Allowed)), RecommendationAlgorithm.Collaborative);
                break;
            case CandidateSource.UserKnn:
                (result.Single, result.Algorithm) = (Normalize(UserNeighborScores(snapshot, userId, Allowed)), RecommendationAlgorithm.Collaborative);
                break;
            case CandidateSource.Embeddings:
                (result.Single, result.Algorithm) = (snapshot.Embeddings.Recommend(weights, options.EmbeddingCandidates, Allowed), RecommendationAlgorithm.Collaborative);
                break;
            default:
                result.Algorithm = tier;
                switch (tier)
                {
                    case RecommendationAlgorithm.Popular:
                        result.Single = popular;
                        break;
                    case RecommendationAlgorithm.Content:
                        result.Single = Blend((Normalize(ContentScores(snapshot, userId, weights, Allowed)), 1f), (popular, 0.1f));
                        break;
                    default:
                        result.Sources =
                        [
                            RankScores(Positive(NeighborScores(snapshot.ItemNeighbors.Collaborative, weights, Allowed))),
                            RankScores(UserNeighborScores(snapshot, userId, Allowed)),
                            RankScores(ContentScores(snapshot, userId, weights, Allowed)),
                            RankScores(new Dictionary<long, float>(popular)),
                            RankScores(snapshot.Embeddings.Recommend(weights, options.EmbeddingCandidates, Allowed)),
                        ];
                        break;
                }
                break;
        }
        return result;
    }


    /// <summary>An item no source nominated, added from the popular list to fill a short list.</summary>
    public const string PopularFill = "popular_fill";

    /// <summary>
    /// Where each candidate's score comes from, for operators (the console's user explorer): in the blend tier every
    /// source's weighted contribution, otherwise the tier's single source. Same candidates as <see cref="ForUser(ModelSnapshot, long, UserHistory, Demographics, RecommendationFilters, DateTime, CandidateSource)"/>.
    /// </summary>
    public IReadOnlyDictionary<long, SourceContribution[]> ExplainSources(
        ModelSnapshot snapshot, long userId, UserHistory history, Demographics demographics, RecommendationFilters filters, DateTime now)
    {
        var candidates = Candidates(snapshot, userId, history, demographics, filters, now, CandidateSource.Hybrid);
        var explained = new Dictionary<long, SourceContribution[]>();
        if (candidates.Sources is { } sources)
        {
            var blend = snapshot.Tuning.Blend ?? BlendWeights.From(options);
            var ids = sources.SelectMany(source => source.Keys).Distinct();
            foreach (var id in ids)
            {
                explained[id] = [.. Enumerable.Range(0, sources.Length)
                    .Where(s => blend[s] != 0f && sources[s].ContainsKey(id))
                    .Select(s => new SourceContribution(BlendWeights.SourceNames[s], blend[s] * sources[s][id]))];
            }
        }
        else
        {
            var name = candidates.Algorithm.ToWireName();
            foreach (var (id, score) in candidates.Single!)
            {
                explained[id] = [new SourceContribution(name, score)];
            }
        }
        return explained;
    }

    /// <summary>Stage two: the blend (3+ tier) with <paramref name="blend"/>, then freshness, order and diversity.</summary>
    internal RankedList Rank(ModelSnapshot snapshot, UserCandidates candidates, BlendWeights blend)
    {
        Dictionary<long, float> final;
        if (candidates.Sources is { } sources)
        {
            final = new Dictionary<long, float>(sources[0].Count + sources[3].Count);
            for (var s = 0; s < sources.Length; s++)
            {
                var weight = blend[s];
                if (weight == 0f)
                {
                    continue;
                }
                foreach (var (id, score) in sources[s])
                {
                    final[id] = final.GetValueOrDefault(id) + weight * score;
                }
            }
        }
        else
        {
            // Finish adjusts scores in place: single sources are copied so candidates can be ranked again.
            final = new Dictionary<long, float>(candidates.Single!);
        }
        return Finish(snapshot, final, candidates.Popular, candidates.Algorithm, candidates.Clock);
    }

    /// <summary>Popular items for a segment (the fallback chain fills thin or filtered-out lists).</summary>
    public RankedList Popular(ModelSnapshot snapshot, Demographics demographics, RecommendationFilters filters, DateTime now)
    {
        var catalog = snapshot.Catalog;
        var popular = PopularScores(snapshot, demographics with { Category = filters.Category ?? demographics.Category }, filters,
            id => filters.Admits(catalog.Find(id)));
        return Finish(snapshot, popular, popular, RecommendationAlgorithm.Popular, snapshot.Tuning.DataClock ?? now);
    }

    /// <summary>
    /// Neighbors of an item: collaborative (or, when it has none, its nearest items in the embedding space) blended with
    /// content (70/30); null when the item is unknown.
    /// </summary>
    public RankedList? Similar(ModelSnapshot snapshot, long itemId)
    {
        if (snapshot.Catalog.Find(itemId) is null)
        {
            return null;
        }
        var catalog = snapshot.Catalog;
        bool Allowed(long id) => id != itemId && catalog.IsActive(id);
        var one = new Dictionary<long, float> { [itemId] = 1f };
        var collaborative = Positive(NeighborScores(snapshot.ItemNeighbors.Collaborative, one, Allowed));
        if (collaborative.Count == 0)
        {
            // No collaborative neighbors (e.g. an item kNN could not pair): the embedding space still places it.
            collaborative = Positive(snapshot.Embeddings.Similar(itemId, options.MaxResults, Allowed));
        }
        var scores = Blend(
            (Normalize(collaborative), 0.7f),
            (Normalize(NeighborScores(snapshot.ItemNeighbors.Content, one, Allowed)), 0.3f));
        var ranked = Order(scores, options.MaxResults);
        return new RankedList(ranked.Select(p => p.Id).ToArray(), ranked.Select(p => p.Score).ToArray(),
            RecommendationAlgorithm.Similar, snapshot.Version);
    }

    /// <summary>Distinct items with <c>log(1 + Σ type weight × decay)</c>, as the model builders weigh them (age from <paramref name="clock"/>).</summary>
    internal Dictionary<long, float> AggregateHistory(IReadOnlyList<HistoryEvent> history, DateTime clock, double halfLifeDays)
    {
        var sums = new Dictionary<long, float>();
        foreach (var e in history)
        {
            var w = options.EventWeight(e.Type, e.Value) * RecommendationOptions.Decay((clock - e.OccurredAt).TotalDays, halfLifeDays);
            sums[e.ItemId] = sums.GetValueOrDefault(e.ItemId) + w;
        }
        foreach (var id in sums.Keys.ToArray())
        {
            sums[id] = MathF.Log(1f + sums[id]);
        }
        return sums;
    }

    /// <summary>
    /// The segment's list, then broader segments to fill: each chain step uses its per-category list when one is
    /// stored, else its overall list narrowed to the category; trending items get a bonus on top. Scores in (0, 1], relative to the best of the first list used.
    /// </summary>
    private Dictionary<long, float> PopularScores(ModelSnapshot snapshot, Demographics d, RecommendationFilters filters, Func<long, bool> allowed)
    {
        var lists = snapshot.Popularity.Lists;
        var scores = new Dictionary<long, float>();
        var floor = 1f;
        foreach (var segment in Segment.FallbackChain(d.GeoId, d.Gender, d.AgeGroup))
        {
            ScoredIds? list = null;
            if (d.Category is not null && lists.TryGetValue(segment with { Category = d.Category }, out var byCategory))
            {
                list = byCategory;
            }
            else if (lists.TryGetValue(segment, out var overall))
            {
                list = overall;
            }
            if (list is null || list.Ids.Length == 0)
            {
                continue;
            }
            // Scores relative to the list's best; a broader list only fills in below what the narrower one gave.
            var max = Math.Max(list.Scores[0], 1e-9f);
            var lowest = floor;
            for (var k = 0; k < list.Ids.Length; k++)
            {
                var id = list.Ids[k];
                if (d.Category is not null && snapshot.Catalog.Find(id)?.Category != d.Category)
                {
                    continue;
                }
                if (!scores.ContainsKey(id) && allowed(id))
                {
                    var score = floor * Math.Max(list.Scores[k] / max, 1e-6f);
                    scores[id] = score;
                    lowest = Math.Min(lowest, score);
                }
            }
            floor = lowest * 0.999f;
            if (scores.Count >= options.MaxResults)
            {
                break;
            }
        }

        // Trending (last days, decayed) lifts what is rising now, within the same category if one is asked for.
        var trending = d.Category is null ? snapshot.Trending.Overall : snapshot.Trending.ByCategory.GetValueOrDefault(d.Category);
        if (options.TrendingWeight > 0 && trending is { Ids.Length: > 0 })
        {
            var best = Math.Max(trending.Scores[0], 1e-9f);
            for (var k = 0; k < trending.Ids.Length; k++)
            {
                var id = trending.Ids[k];
                if (scores.ContainsKey(id) || allowed(id))
                {
                    scores[id] = scores.GetValueOrDefault(id) + options.TrendingWeight * trending.Scores[k] / best;
                }
            }
        }
        return scores;
    }

    private static Dictionary<long, float> NeighborScores(
        IReadOnlyDictionary<long, ScoredIds> neighbors, IReadOnlyDictionary<long, float> weights, Func<long, bool> allowed)
    {
        var scores = new Dictionary<long, float>();
        foreach (var (itemId, weight) in weights)
        {
            if (!neighbors.TryGetValue(itemId, out var list))
            {
                continue;
            }
            for (var k = 0; k < list.Ids.Length; k++)
            {
                var id = list.Ids[k];
                if (allowed(id))
                {
                    scores[id] = scores.GetValueOrDefault(id) + weight * list.Scores[k];
                }
            }
        }
        return scores;
    }

    private static Dictionary<long, float> UserNeighborScores(ModelSnapshot snapshot, long userId, Func<long, bool> allowed)
    {
        var scores = new Dictionary<long, float>();
        if (snapshot.UserNeighbors.Users.TryGetValue(userId, out var neighborhood))
        {
            for (var k = 0; k < neighborhood.Items.Ids.Length; k++)
            {
                if (allowed(neighborhood.Items.Ids[k]))
                {
                    scores[neighborhood.Items.Ids[k]] = neighborhood.Items.Scores[k];
                }
            }
        }
        return scores;
    }

    /// <summary>
    /// Content: content neighbors of the history, plus affinity to the user's profile (fresh from the history,
    /// merged with the stored profile when there is one): half category weight, half tag weights.
    /// </summary>
    private Dictionary<long, float> ContentScores(ModelSnapshot snapshot, long userId, IReadOnlyDictionary<long, float> weights, Func<long, bool> allowed)
    {
        var scores = Normalize(NeighborScores(snapshot.ItemNeighbors.Content, weights, allowed));
        var categories = new Dictionary<string, float>(StringComparer.Ordinal);
        var tags = new Dictionary<string, float>(StringComparer.Ordinal);
        var total = 0f;
        foreach (var (itemId, weight) in weights)
        {
            if (snapshot.Catalog.Find(itemId) is not { } item)
            {
                continue;
            }
            categories[item.Category] = categories.GetValueOrDefault(item.Category) + weight;
            foreach (var tag in item.Tags)
            {
                tags[tag] = tags.GetValueOrDefault(tag) + weight;
            }
            total += weight;
        }
        if (total > 0)
        {
            foreach (var key in categories.Keys.ToArray())
            {
                categories[key] /= total;
            }
            foreach (var key in tags.Keys.ToArray())
            {
                tags[key] /= total;
            }
        }
        if (snapshot.Profiles.Users.TryGetValue(userId, out var stored))
        {
            Merge(categories, stored.Categories, total > 0);
            Merge(tags, stored.Tags, total > 0);
        }
        if (categories.Count == 0)
        {
            return scores;
        }

        // Candidates beyond the neighbors: the most popular items of the user's top categories.
        foreach (var (category, _) in categories.OrderByDescending(c => c.Value).ThenBy(c => c.Key, StringComparer.Ordinal).Take(3))
        {
            if (snapshot.Popularity.Lists.TryGetValue(new Segment(Category: category), out var list))
            {
                foreach (var id in list.Ids.Take(50))
                {
                    if (allowed(id))
                    {
                        scores.TryAdd(id, 0f);
                    }
                }
            }
        }
        var popularity = new CategoryPopularity(snapshot.Popularity);
        foreach (var id in scores.Keys.ToArray())
        {
            if (snapshot.Catalog.Find(id) is not { } item)
            {
                continue;
            }
            var tagAffinity = 0f;
            foreach (var tag in item.Tags)
            {
                tagAffinity += tags.GetValueOrDefault(tag);
            }
            scores[id] += 0.5f * categories.GetValueOrDefault(item.Category) + 0.5f * Math.Min(1f, tagAffinity);
            if (options.ContentPopularityBoost > 0)
            {
                scores[id] *= 1f + options.ContentPopularityBoost * popularity.Relative(item);
            }
        }
        return scores;

        static void Merge(Dictionary<string, float> fresh, IReadOnlyDictionary<string, float> stored, bool halve)
        {
            var factor = halve ? 0.5f : 1f;
            foreach (var key in fresh.Keys.ToArray())
            {
                fresh[key] *= factor;
            }
            foreach (var (key, value) in stored)
            {
                fresh[key] = fresh.GetValueOrDefault(key) + value * factor;
            }
        }
    }

    /// <summary>
    /// Replaces scores by reciprocal-rank scores <c>(c + 1) / (c + rank)</c> (rank 1 = best, ties by id): 1 for the best,
    /// a slow fade after, whatever the shape of the raw scores (Cormack et al. 2009, reciprocal rank fusion).
    /// </summary>
    private Dictionary<long, float> RankScores(Dictionary<long, float> scores)
    {
        var c = Math.Max(options.BlendRankConstant, 0f);
        var ranked = Order(scores, int.MaxValue);
        for (var rank = 1; rank <= ranked.Count; rank++)
        {
            scores[ranked[rank - 1].Id] = (c + 1) / (c + rank);
        }
        return scores;
    }

    /// <summary>An item's popularity in its category (global segment list), relative to the category's best; 0 when unlisted.</summary>
    private sealed class CategoryPopularity(PopularityModel model)
    {
        private readonly Dictionary<string, Dictionary<long, float>?> _byCategory = new(StringComparer.Ordinal);

        public float Relative(CatalogItem item)
        {
            if (!_byCategory.TryGetValue(item.Category, out var relative))
            {
                relative = null;
                if (model.Lists.TryGetValue(new Segment(Category: item.Category), out var list) && list.Ids.Length > 0)
                {
                    var best = Math.Max(list.Scores[0], 1e-9f);
                    relative = new Dictionary<long, float>(list.Ids.Length);
                    for (var k = 0; k < list.Ids.Length; k++)
                    {
                        relative[list.Ids[k]] = list.Scores[k] / best;
                    }
                }
                _byCategory[item.Category] = relative;
            }
            return relative?.GetValueOrDefault(item.Id) ?? 0f;
        }
    }

    /// <summary>
    /// Drops items whose collaborative score is not positive: EASE's negative weights push items down, and an item the
    /// history argues against is no candidate (and no "similar item").
    /// </summary>
    private static Dictionary<long, float> Positive(Dictionary<long, float> scores)
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

    private static Dictionary<long, float> Normalize(Dictionary<long, float> scores)
    {
        var max = 0f;
        foreach (var value in scores.Values)
        {
            max = Math.Max(max, value);
        }
        if (max > 0f)
        {
            foreach (var key in scores.Keys.ToArray())
            {
                scores[key] /= max;
            }
        }
        return scores;
    }

    private static Dictionary<long, float> Blend(params (Dictionary<long, float> Scores, float Weight)[] sources)
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

    /// <summary>Freshness boost (item age measured from the data's clock), deterministic order, diversity, then popular items to fill a short list.</summary>
    private RankedList Finish(ModelSnapshot snapshot, Dictionary<long, float> scores, Dictionary<long, float> popular, RecommendationAlgorithm algorithm, DateTime now)
    {
        if (options.FreshnessBoost > 0 && options.FreshnessDays > 0)
        {
            foreach (var id in scores.Keys.ToArray())
            {
                scores[id] *= Freshness(snapshot.Catalog, id, now);
            }
        }
        // A few pages beyond the list length leave the diversity re-rank room to defer items.
        var ranked = Order(scores, options.MaxResults * 4);
        var fill = ranked.Count < options.MaxResults && popular.Count > 0 && !ReferenceEquals(scores, popular) ? Order(popular, int.MaxValue) : [];
        return Complete(snapshot, ranked, fill, scores.ContainsKey, algorithm);
    }

    /// <summary>The freshness factor of an item (1 when it is not new): <c>1 + FreshnessBoost × (1 − age / FreshnessDays)</c>.</summary>
    private float Freshness(Catalog catalog, long id, DateTime now)
    {
        if (options.FreshnessBoost > 0 && options.FreshnessDays > 0 && catalog.Find(id) is { } item)
        {
            var age = (now - item.CreatedAt).TotalDays;
            if (age < options.FreshnessDays)
            {
                return 1f + options.FreshnessBoost * (float)(1 - Math.Max(age, 0) / options.FreshnessDays);
            }
        }
        return 1f;
    }

    /// <summary>
    /// The end of stage two: popular items (best first) fill a short list below everything personal, then diversity and
    /// the cut to <see cref="RecommendationOptions.MaxResults"/>. <paramref name="ranked"/> is ordered, at most MaxResults × 4 long.
    /// </summary>
    private RankedList Complete(ModelSnapshot snapshot, List<(long Id, float Score)> ranked, List<(long Id, float Score)> popular,
        Func<long, bool> ranks, RecommendationAlgorithm algorithm)
    {
        if (ranked.Count < options.MaxResults && popular.Count > 0)
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
        var count = Math.Min(diverse.Count, options.MaxResults);
        var ids = new long[count];
        var values = new float[count];
        for (var i = 0; i < count; i++)
        {
            (ids[i], values[i]) = diverse[i];
        }
        return new RankedList(ids, values, algorithm, snapshot.Version);
    }

    /// <summary>
    /// The 3+ tier's candidates laid out for ranking under many blends (the build's tuning tries dozens per user): one
    /// score column per source and the freshness factor, computed once. <see cref="Rank(ModelSnapshot, BlendCandidates, BlendWeights)"/>
    /// then gives exactly what <see cref="Rank(ModelSnapshot, UserCandidates, BlendWeights)"/> gives, without rebuilding
    /// dictionaries per blend (at S, 1,000 users × 80 blends: the tuning's largest cost).
    /// </summary>
    internal BlendCandidates Prepare(ModelSnapshot snapshot, UserCandidates candidates)
    {
        var sources = candidates.Sources ?? throw new ArgumentException("Only the blend tier's candidates have sources.", nameof(candidates));
        var index = new Dictionary<long, int>();
        var ids = new List<long>();
        foreach (var source in sources)
        {
            foreach (var id in source.Keys)
            {
                if (index.TryAdd(id, ids.Count))
                {
                    ids.Add(id);
                }
            }
        }
        var columns = new float[ids.Count * sources.Length];
        var present = new byte[ids.Count];
        for (var s = 0; s < sources.Length; s++)
        {
            foreach (var (id, score) in sources[s])
            {
                var i = index[id];
                columns[i * sources.Length + s] = score;
                present[i] |= (byte)(1 << s);
            }
        }
        var fresh = new float[ids.Count];
        for (var i = 0; i < fresh.Length; i++)
        {
            fresh[i] = Freshness(snapshot.Catalog, ids[i], candidates.Clock);
        }
        var popular = Order(candidates.Popular, int.MaxValue);
        return new BlendCandidates([.. ids], index, sources.Length, columns, present, fresh, popular, candidates.Algorithm);
    }

    /// <summary>Stage two for prepared candidates: the same list as ranking the <see cref="UserCandidates"/> they came from.</summary>
    internal RankedList Rank(ModelSnapshot snapshot, BlendCandidates candidates, BlendWeights blend)
    {
        var sourceCount = candidates.SourceCount;
        Span<float> weights = stackalloc float[sourceCount];
        var used = 0;
        for (var s = 0; s < sourceCount; s++)
        {
            weights[s] = blend[s];
            used |= weights[s] != 0f ? 1 << s : 0;
        }
        var pairs = new (long Id, float Score)[candidates.Ids.Length];
        var n = 0;
        for (var i = 0; i < candidates.Ids.Length; i++)
        {
            var present = candidates.Present[i] & used;
            if (present == 0)
            {
                continue;
            }
            // Sources added in order from 0, as the dictionary blend does, so the sums are bit-identical.
            var score = 0f;
            for (var s = 0; s < sourceCount; s++)
            {
                if ((present & (1 << s)) != 0)
                {
                    score += weights[s] * candidates.Columns[i * sourceCount + s];
                }
            }
            pairs[n++] = (candidates.Ids[i], score * candidates.Freshness[i]);
        }
        var ranked = Order(pairs.AsSpan(0, n), options.MaxResults * 4);
        return Complete(snapshot, ranked, candidates.Popular,
            id => candidates.Index.TryGetValue(id, out var i) && (candidates.Present[i] & used) != 0, candidates.Algorithm);
    }

    private static List<(long Id, float Score)> Order(Dictionary<long, float> scores, int limit) =>
        Order([.. scores.Select(p => (p.Key, p.Value))], limit);

    /// <summary>The best <paramref name="limit"/> pairs, by score descending then id ascending (reorders <paramref name="scores"/>).</summary>
    private static List<(long Id, float Score)> Order(Span<(long Id, float Score)> scores, int limit)
    {
        static int Compare((long Id, float Score) a, (long Id, float Score) b) =>
            a.Score != b.Score ? b.Score.CompareTo(a.Score) : a.Id.CompareTo(b.Id);

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
    /// Fills pages of <see cref="RecommendationOptions.DiversityPageSize"/> in score order, deferring an item whose
    /// category already has its share of the page; deferred items lead the next page. When nothing else is left,
    /// the share is relaxed rather than leaving a page short.
    /// </summary>
    private List<(long Id, float Score)> Diversify(Catalog catalog, List<(long Id, float Score)> ranked)
    {
        var pageSize = Math.Max(1, options.DiversityPageSize);
        var cap = Math.Max(1, (int)Math.Floor(options.MaxCategoryShare * pageSize));
        if (cap >= pageSize || ranked.Count <= 1)
        {
            return ranked;
        }
        var limit = Math.Min(ranked.Count, options.MaxResults);
        var result = new List<(long Id, float Score)>(limit);
        var pending = new LinkedList<(long Id, float Score)>(ranked);
        var perCategory = new Dictionary<string, int>(StringComparer.Ordinal);
        while (result.Count < limit && pending.Count > 0)
        {
            perCategory.Clear();
            var pageEnd = Math.Min(limit, result.Count + pageSize);
            var node = pending.First;
            while (result.Count < pageEnd && node is not null)
            {
                var next = node.Next;
                var category = catalog.Find(node.Value.Id)?.Category ?? "";
                var used = perCategory.GetValueOrDefault(category);
                if (used < cap)
                {
                    perCategory[category] = used + 1;
                    result.Add(node.Value);
                    pending.Remove(node);
                }
                node = next;
            }
            // Relax: not enough variety left to fill this page within the share.
            while (result.Count < pageEnd && pending.First is { } first)
            {
                result.Add(first.Value);
                pending.RemoveFirst();
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

/// <summary>One user's candidates: either one scored source (tiers 0 and 1–2, single-source evaluation) or the rank-scored
/// sources of the 3+ blend, indexed like <see cref="BlendWeights"/>.</summary>
/// <summary>One source's share of an item's score.</summary>
public sealed record SourceContribution(string Source, float Contribution);

internal sealed class UserCandidates(DateTime clock, Dictionary<long, float> popular)
{
    public DateTime Clock { get; } = clock;
    public Dictionary<long, float> Popular { get; } = popular;
    public RecommendationAlgorithm Algorithm { get; set; }
    public Dictionary<long, float>? Single { get; set; }
    public Dictionary<long, float>[]? Sources { get; set; }
}
