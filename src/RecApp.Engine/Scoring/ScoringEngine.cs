using System.Buffers;
using System.Runtime.InteropServices;
using RecApp.Engine.Domain;
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
/// Pure scoring over a <see cref="ModelSnapshot"/> and the user's fresh history (no I/O), in two stages.
/// Stage one, candidates, from named sources (<see cref="CandidateSources"/>): item neighbors (kNN or EASE), user
/// neighbors, content (content neighbors and profile), popular (segment, trending) and embeddings (the history folded
/// into a user vector). Stage two, by tier (<see cref="UserTier"/>: 0 → popular, 1–2 → content-led, 3+ → the blend the
/// build learned, <see cref="ModelTuning.Blend"/>, through <see cref="RankFusion"/>), then <see cref="ListAssembly"/>:
/// freshness, deterministic order, popular fill, diversity, the cut. Seen items, filters and inactive items never pass.
/// Time is the data's clock (<see cref="Clock"/>), never the wall clock.
/// </summary>
public sealed class ScoringEngine
{
    /// <summary>Weight of the popular list in the 1–2 tier's answer, against content's 1.</summary>
    public const float ContentLedPopularShare = 0.1f;

    /// <summary>Share of the collaborative neighbors in an item's similar items; content neighbors have the rest.</summary>
    public const float SimilarCollaborativeShare = 0.7f;

    /// <summary>An item no source nominated, added from the popular list to fill a short list.</summary>
    public const string PopularFill = "popular_fill";

    private readonly RecommendationOptions options;
    private readonly CandidateSources _sources;
    private readonly ListAssembly _list;

    public ScoringEngine(RecommendationOptions options)
    {
        this.options = options;
        _sources = new CandidateSources(options);
        _list = new ListAssembly(options);
    }

    public RankedList ForUser(
        ModelSnapshot snapshot, long userId, IReadOnlyList<HistoryEvent> history, Demographics demographics,
        RecommendationFilters filters, DateTime now, CandidateSource source = CandidateSource.Hybrid) =>
        ForUser(snapshot, userId, UserHistory.From(history, int.MaxValue), demographics, filters, now, source);

    public RankedList ForUser(
        ModelSnapshot snapshot, long userId, UserHistory history, Demographics demographics,
        RecommendationFilters filters, DateTime now, CandidateSource source = CandidateSource.Hybrid)
    {
        // Every working dictionary of this request comes from a pooled scratch; the list returned owns its own arrays.
        var scratch = ScoringScratch.Rent();
        var candidates = Candidates(snapshot, userId, history, demographics, filters, now, source, scratch);
        var list = Rank(snapshot, candidates, snapshot.Tuning.Blend ?? BlendWeights.From(options), scratch);
        ScoringScratch.Return(scratch); // not on an exception: that scratch is left to the GC, never reused half-filled
        return list;
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
        RecommendationFilters filters, DateTime now, CandidateSource source = CandidateSource.Hybrid) =>
        Candidates(snapshot, userId, history, demographics, filters, now, source, ScoringScratch.None);

    /// <summary>
    /// Stage one with its dictionaries from <paramref name="scratch"/>: what it returns is valid until the scratch is
    /// returned (<see cref="ScoringScratch.None"/>: for good).
    /// </summary>
    internal UserCandidates Candidates(
        ModelSnapshot snapshot, long userId, UserHistory history, Demographics demographics,
        RecommendationFilters filters, DateTime now, CandidateSource source, ScoringScratch scratch)
    {
        var (clock, weights, allowed) = Ask(snapshot, history, filters, now, scratch);
        var tier = UserTier.Of(Math.Max(history.Seen.Count, weights.Count));

        var popular = _sources.Popular.Score(
            snapshot, demographics with { Category = filters.Category ?? demographics.Category }, allowed, scratch.Scores());
        var context = new CandidateContext(snapshot, userId, weights, allowed, popular) { Scratch = scratch };
        var result = new UserCandidates(clock, popular);
        switch (source)
        {
            case CandidateSource.Popular:
                (result.Single, result.Algorithm) = (popular, RecommendationAlgorithm.Popular);
                break;
            case CandidateSource.Content:
                (result.Single, result.Algorithm) = (RankFusion.Normalize(_sources.Content.Propose(context)), RecommendationAlgorithm.Content);
                break;
            case CandidateSource.ItemKnn:
                (result.Single, result.Algorithm) = (RankFusion.Normalize(_sources.ItemNeighbors.Raw(context)), RecommendationAlgorithm.Collaborative);
                break;
            case CandidateSource.UserKnn:
                (result.Single, result.Algorithm) = (RankFusion.Normalize(_sources.UserNeighbors.Propose(context)), RecommendationAlgorithm.Collaborative);
                break;
            case CandidateSource.Embeddings:
                (result.Single, result.Algorithm) = (_sources.Embeddings.Propose(context), RecommendationAlgorithm.Collaborative);
                break;
            default:
                result.Algorithm = tier;
                switch (tier)
                {
                    case RecommendationAlgorithm.Popular:
                        result.Single = popular;
                        break;
                    case RecommendationAlgorithm.Content:
                        result.Single = RankFusion.Blend((RankFusion.Normalize(_sources.Content.Propose(context)), 1f), (popular, ContentLedPopularShare));
                        break;
                    default:
                        var sources = new Dictionary<long, float>[_sources.All.Count];
                        for (var s = 0; s < sources.Length; s++)
                        {
                            sources[s] = RankFusion.RankScores(_sources.All[s].Propose(context), options.Scoring.BlendRankConstant);
                        }
                        result.Sources = sources;
                        break;
                }
                break;
        }
        return result;
    }

    /// <summary>
    /// <paramref name="candidates"/> (stage one on another snapshot) with the blend source <paramref name="source"/> asked
    /// again on <paramref name="snapshot"/>, which differs from that snapshot only in the part this source reads (the
    /// tuner adds the embeddings to its validation model): the other sources, the tier and the popular list are reused.
    /// </summary>
    internal UserCandidates WithSource(
        ModelSnapshot snapshot, UserCandidates candidates, int source, long userId, UserHistory history, RecommendationFilters filters, DateTime now)
    {
        if (candidates.Sources is not { } sources)
        {
            return candidates; // a single-source tier: the blend's sources take no part
        }
        var (_, weights, allowed) = Ask(snapshot, history, filters, now, ScoringScratch.None);
        var context = new CandidateContext(snapshot, userId, weights, allowed, candidates.Popular);
        var replaced = (Dictionary<long, float>[])sources.Clone();
        replaced[source] = RankFusion.RankScores(_sources.All[source].Propose(context), options.Scoring.BlendRankConstant);
        return new UserCandidates(candidates.Clock, candidates.Popular) { Algorithm = candidates.Algorithm, Sources = replaced };
    }

    /// <summary>What every source is asked with: the clock, the weighted history, and which items may be proposed.</summary>
    private (DateTime Clock, Dictionary<long, float> Weights, Func<long, bool> Allowed) Ask(
        ModelSnapshot snapshot, UserHistory history, RecommendationFilters filters, DateTime now, ScoringScratch scratch)
    {
        var clock = Clock(snapshot, history.Recent, now);
        var weights = AggregateHistory(
            history.Recent, clock, snapshot.Tuning.DecayHalfLifeDays ?? options.History.DecayHalfLifeDays, scratch.Scores());
        var seen = history.Seen;
        var catalog = snapshot.Catalog;
        if (!scratch.IsPooled || catalog.DenseIdLimit == 0)
        {
            return (clock, weights, id => !seen.Contains(id) && !weights.ContainsKey(id) && catalog.Admits(filters, id));
        }
        // Every source asks this of each candidate it meets (thousands per miss): one array read for the history instead of
        // two hash lookups. An id beyond the dense ids is in no catalog item, so neither form admits it.
        var excluded = scratch.Mark(catalog.DenseIdLimit, seen, weights.Keys);
        return filters.IsNone
            ? (clock, weights, id => catalog.IsActive(id) && !ScoringScratch.IsMarked(excluded, id))
            : (clock, weights, id => !ScoringScratch.IsMarked(excluded, id) && catalog.Admits(filters, id));
    }

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
                    .Select(s => new SourceContribution(_sources.All[s].Name, blend[s] * sources[s][id]))];
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
    internal RankedList Rank(ModelSnapshot snapshot, UserCandidates candidates, BlendWeights blend) =>
        Rank(snapshot, candidates, blend, ScoringScratch.None);

    /// <summary>Stage two with its working dictionaries from <paramref name="scratch"/>.</summary>
    internal RankedList Rank(ModelSnapshot snapshot, UserCandidates candidates, BlendWeights blend, ScoringScratch scratch)
    {
        var final = candidates.Sources is { } sources
            ? RankFusion.WeightedSum(sources, blend, scratch.Scores())
            // Finish leaves the scores as they are, so candidates can be ranked again (the popular tier's single source
            // is the popular list itself: it fills nothing then, as every popular item is already ranked).
            : candidates.Single!;
        return _list.Finish(snapshot, final, candidates.Popular, candidates.Algorithm, candidates.Clock, scratch);
    }

    /// <summary>Popular items for a segment (the fallback chain fills thin or filtered-out lists).</summary>
    public RankedList Popular(ModelSnapshot snapshot, Demographics demographics, RecommendationFilters filters, DateTime now)
    {
        var catalog = snapshot.Catalog;
        var popular = _sources.Popular.Score(snapshot, demographics with { Category = filters.Category ?? demographics.Category },
            id => catalog.Admits(filters, id));
        return _list.Finish(snapshot, popular, popular, RecommendationAlgorithm.Popular, snapshot.Tuning.DataClock ?? now);
    }

    /// <summary>
    /// Neighbors of an item: collaborative (or, when it has none, its nearest items in the embedding space) blended with
    /// content (<see cref="SimilarCollaborativeShare"/>); null when the item is unknown.
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
        var collaborative = RankFusion.Positive(ItemNeighborSource.Sum(snapshot.ItemNeighbors.Collaborative, one, Allowed, []));
        if (collaborative.Count == 0)
        {
            // No collaborative neighbors (e.g. an item kNN could not pair): the embedding space still places it.
            collaborative = RankFusion.Positive(snapshot.Embeddings.Similar(itemId, options.Scoring.MaxResults, Allowed));
        }
        var scores = RankFusion.Blend(
            (RankFusion.Normalize(collaborative), SimilarCollaborativeShare),
            (RankFusion.Normalize(ItemNeighborSource.Sum(snapshot.ItemNeighbors.Content, one, Allowed, [])), 1f - SimilarCollaborativeShare));
        var ranked = ListAssembly.Order(scores, options.Scoring.MaxResults);
        return new RankedList(ranked.Select(p => p.Id).ToArray(), ranked.Select(p => p.Score).ToArray(),
            RecommendationAlgorithm.Similar, snapshot.Version);
    }

    /// <summary>Distinct items with <c>log(1 + Σ type weight × decay)</c>, as the model builders weigh them (age from <paramref name="clock"/>).</summary>
    internal Dictionary<long, float> AggregateHistory(IReadOnlyList<HistoryEvent> history, DateTime clock, double halfLifeDays) =>
        AggregateHistory(history, clock, halfLifeDays, []);

    /// <summary>The same into <paramref name="sums"/> (empty).</summary>
    private Dictionary<long, float> AggregateHistory(IReadOnlyList<HistoryEvent> history, DateTime clock, double halfLifeDays, Dictionary<long, float> sums)
    {
        foreach (var e in history)
        {
            var w = options.EventWeight(e.Type, e.Value) * RecommendationOptions.Decay((clock - e.OccurredAt).TotalDays, halfLifeDays);
            sums[e.ItemId] = sums.GetValueOrDefault(e.ItemId) + w;
        }
        // Values change in place (no key added or removed), so the enumeration stays valid.
        foreach (var (id, sum) in sums)
        {
            CollectionsMarshal.GetValueRefOrNullRef(sums, id) = MathF.Log(1f + sum);
        }
        return sums;
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
            fresh[i] = _list.Freshness(snapshot.Catalog, ids[i], candidates.Clock);
        }
        var popular = ListAssembly.Order(candidates.Popular, int.MaxValue);
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
        var pairs = ArrayPool<(long Id, float Score)>.Shared.Rent(candidates.Ids.Length);
        List<(long Id, float Score)> ranked;
        try
        {
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
            ranked = ListAssembly.Order(pairs.AsSpan(0, n), options.Scoring.MaxResults * 4);
        }
        finally
        {
            ArrayPool<(long Id, float Score)>.Shared.Return(pairs);
        }
        return _list.Complete(snapshot, ranked, candidates.Popular,
            id => candidates.Index.TryGetValue(id, out var i) && (candidates.Present[i] & used) != 0, candidates.Algorithm, ScoringScratch.None);
    }
}

/// <summary>One source's share of an item's score.</summary>
public sealed record SourceContribution(string Source, float Contribution);

/// <summary>
/// One user's candidates: either one scored source (tiers 0 and 1–2, single-source evaluation) or the rank-scored
/// sources of the 3+ blend, positioned like <see cref="BlendWeights.SourceNames"/>.
/// </summary>
internal sealed class UserCandidates(DateTime clock, Dictionary<long, float> popular)
{
    public DateTime Clock { get; } = clock;
    public Dictionary<long, float> Popular { get; } = popular;
    public RecommendationAlgorithm Algorithm { get; set; }
    public Dictionary<long, float>? Single { get; set; }
    public Dictionary<long, float>[]? Sources { get; set; }
}
