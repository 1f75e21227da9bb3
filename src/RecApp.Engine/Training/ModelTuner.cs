using System.Collections.Concurrent;
using System.Diagnostics;
using RecApp.Engine.Domain;
using RecApp.Engine.Metrics;
using RecApp.Engine.Model;
using RecApp.Engine.Scoring;

namespace RecApp.Engine.Training;

/// <summary>
/// The build's learning step. On a validation split carved from the training data (a seeded 10% of the items of users
/// with 4+ items; at most <see cref="RecApp.Engine.TuningOptions.TrainUsers"/> users' data), within
/// <see cref="RecApp.Engine.TuningOptions.Budget"/> of CPU time (each step's first try always runs):
/// <list type="number">
/// <item>the collaborative source: item-kNN, or EASE over a λ grid around <see cref="RecApp.Engine.NeighborOptions.EaseLambda"/>
/// (×1, 2, 0.4) where EASE can run, scored alone on the held-out items;</item>
/// <item>the decay half-life of the history (the configured one or none);</item>
/// <item>the blend of the 3+ tier: per-source weights of the rank fusion (the embedding source fitted on the validation
/// data with the chosen decay), fitted by coordinate ascent on nDCG@10; the embedding source is kept only when that blend
/// beats the best blend without it by 1%.</item>
/// </list>
/// Scoring in steps 2 and 3 goes through <see cref="ScoringEngine"/> itself (candidates once per user, then the ranking
/// per try), with the serving history rule, so what is chosen is what the API will do. The collaborative source is then
/// rebuilt on all the data with the chosen settings.
/// </summary>
internal static class ModelTuner
{
    private const int K = 10;

    /// <summary>
    /// Share of each validation user's items held out: small, so the validation model sees nearly the whole history as
    /// the served one does (at 25% the blend leaned on content, which helps thin histories, and lost on the test split).
    /// </summary>
    private const double HoldOutFraction = 0.1;

    /// <summary>Relative validation gain a decay half-life needs over no decay (on MovieLens, smaller gains did not hold on the test split).</summary>
    private const double DecayMargin = 0.02;

    /// <summary>
    /// Relative validation gain the embedding source needs over the best blend without it. Seen (seed 42 unless said):
    /// Last.fm +7%, MovieLens +1.8% (seed 1) and more, S +1.9% (test +0.003 nDCG@10), L +0.6% (test −0.0026).
    /// </summary>
    private const double EmbeddingMargin = 0.01;
    private static readonly double[] s_lambdaFactors = [1, 2, 0.4];
    private static readonly float[] s_weightFactors = [0f, 0.25f, 0.5f, 2f, 4f];

    /// <param name="EaseTooLarge">EASE was wanted (or tried) but does not fit the data's size: item-kNN serves instead.</param>
    public sealed record Result(Dictionary<long, ScoredIds> Collaborative, ModelTuning Tuning, bool EaseTooLarge = false);

    public static Result Tune(Dataset dataset, DecayedMatrices matrices, RecommendationOptions options, DateTime clock)
    {
        var watch = Stopwatch.StartNew();
        var matrix = matrices.Configured;
        var tuning = new ModelTuning { DataClock = clock, TunedDataClock = clock };
        if (options.Tuning.Budget <= TimeSpan.Zero || matrix.UserCount == 0)
        {
            var fixedModel = ItemNeighborBuilder.ChooseCollaborative(matrix, options, out var chosenFixed);
            return new Result(fixedModel, tuning with { ItemModel = Name(chosenFixed) });
        }

        var search = new Search(dataset, matrices, options, clock);
        var collaborative = search.ChooseCollaborative();
        tuning = tuning with { ItemModel = collaborative.Model, EaseLambda = collaborative.Lambda };
        if (search.ValidationUsers.Length > 0)
        {
            var validation = search.ValidationModel(collaborative.Neighbors);
            var (halfLife, candidates, defaultsNdcg) = search.ChooseDecay(validation);
            var scored = validation with { Tuning = new ModelTuning { DataClock = clock, DecayHalfLifeDays = halfLife } };
            (scored, candidates, defaultsNdcg) = search.WithEmbeddings(scored, candidates, defaultsNdcg, halfLife);
            var (weights, score) = search.ChooseBlend(scored, candidates, defaultsNdcg);
            tuning = tuning with
            {
                DecayHalfLifeDays = halfLife,
                Blend = weights,
                ValidationNdcg = score,
                DefaultsValidationNdcg = defaultsNdcg,
                ValidationUsers = search.ValidationUsers.Length,
            };
        }

        var fitted = FitCollaborative(matrix, options, tuning, search.EaseTooLarge);
        return fitted with { Tuning = fitted.Tuning with { SettingsTried = search.Tried, TuningSeconds = Math.Round(watch.Elapsed.TotalSeconds, 2) } };
    }

    /// <summary>
    /// A build without a search: the collaborative source on all the data with the choices an earlier search made
    /// (<see cref="TunedChoices"/>), which this build's record keeps, with this build's data clock.
    /// </summary>
    public static Result Refit(DecayedMatrices matrices, RecommendationOptions options, TunedChoices kept, DateTime clock) =>
        FitCollaborative(matrices.Configured, options, kept.Tuning with { DataClock = clock, ScaleChoices = null }, kept.EaseTooLarge);

    /// <summary>The collaborative source <paramref name="tuning"/> chose, on all the data: EASE with its λ where it fits, else item-kNN.</summary>
    private static Result FitCollaborative(InteractionMatrix matrix, RecommendationOptions options, ModelTuning tuning, bool easeTooLarge)
    {
        var neighbors = tuning.ItemModel == "ease"
            ? EaseBuilder.TryBuild(matrix, tuning.EaseLambda ?? options.Neighbors.EaseLambda, options.Neighbors.EaseMaxItems, options.Neighbors.EaseNeighbors)
            : null;
        easeTooLarge |= tuning.ItemModel == "ease" && neighbors is null;
        if (neighbors is null)
        {
            neighbors = ItemNeighborBuilder.Collaborative(matrix, options);
            tuning = tuning with { ItemModel = "knn", EaseLambda = null };
        }
        return new Result(neighbors, tuning, easeTooLarge);
    }

    /// <summary>One build's search: the validation split, the CPU budget, and each step's choice on it.</summary>
    private sealed class Search
    {
        private readonly Dataset _dataset;
        private readonly DecayedMatrices _matrices;
        private readonly InteractionMatrix _matrix;
        private readonly RecommendationOptions _options;
        private readonly DateTime _clock;
        private readonly TimeSpan _cpuAtStart = CpuTime();
        private readonly InteractionMatrix _train;
        private readonly Dictionary<int, HashSet<int>> _heldOut;
        private readonly HashSet<long>[] _truth;
        // Only the top K is measured; K ≤ the diversity page's per-category share, so the top K is the served top K.
        private readonly ScoringEngine _engine;
        private readonly BlendWeights _defaults;

        public Search(Dataset dataset, DecayedMatrices matrices, RecommendationOptions options, DateTime clock)
        {
            (_dataset, _matrices, _options, _clock) = (dataset, matrices, options, clock);
            _matrix = matrices.Configured;
            (_train, _heldOut) = _matrix.HoldOut(HoldOutFraction, seed: 17, options.Tuning.TrainUsers);
            ValidationUsers = Sample(_heldOut.Keys, options.Tuning.Users, seed: 23);
            _truth = ValidationUsers.Select(u => _heldOut[u].Select(i => _matrix.ItemIds[i]).ToHashSet()).ToArray();
            _engine = new ScoringEngine(WithMaxResults(options, K));
            _defaults = BlendWeights.From(options);
        }

        /// <summary>Matrix rows of the users whose held-out items are predicted.</summary>
        public int[] ValidationUsers { get; }

        /// <summary>Settings measured so far (the tuning record reports it).</summary>
        public int Tried { get; private set; }

        /// <summary>EASE was to be tried but the data is too large for it.</summary>
        public bool EaseTooLarge { get; private set; }

        /// <summary>
        /// The budget is CPU time of this process: on a shared, loaded machine wall time says little about the work done,
        /// and the same data gets the same search. (On two idle cores, wall time is about half of it.) Each step's first
        /// try runs whatever the budget.
        /// </summary>
        private bool InBudget() => CpuTime() - _cpuAtStart < _options.Tuning.Budget;

        /// <summary>Step 1: item-kNN or EASE over the λ grid, each scored alone on the held-out items.</summary>
        public (string Model, double? Lambda, Dictionary<long, ScoredIds> Neighbors) ChooseCollaborative()
        {
            (string Model, double? Lambda, Dictionary<long, ScoredIds> Neighbors, double Ndcg)? best = null;
            void Consider(string model, double? lambda, Dictionary<long, ScoredIds> neighbors)
            {
                Tried++;
                var ndcg = ItemNeighborBuilder.HoldoutNdcg(_train, _heldOut, neighbors, ValidationUsers);
                if (best is null || ndcg > best.Value.Ndcg)
                {
                    best = (model, lambda, neighbors, ndcg);
                }
            }
            if (_options.Neighbors.CollaborativeModel != CollaborativeModel.Ease)
            {
                Consider("knn", null, ItemNeighborBuilder.Collaborative(_train, _options));
            }
            if (_options.Neighbors.CollaborativeModel != CollaborativeModel.Knn)
            {
                foreach (var factor in s_lambdaFactors)
                {
                    if (best is not null && !InBudget())
                    {
                        break;
                    }
                    var lambda = _options.Neighbors.EaseLambda * factor;
                    var ease = EaseBuilder.TryBuild(_train, lambda, _options.Neighbors.EaseMaxItems, _options.Neighbors.EaseNeighbors);
                    if (ease is null)
                    {
                        EaseTooLarge = true;
                        break; // too big for EASE: no λ will do
                    }
                    Consider("ease", lambda, ease);
                }
            }
            var chosen = best ?? ("knn", null, ItemNeighborBuilder.Collaborative(_train, _options), 0);
            return (chosen.Model, chosen.Lambda, chosen.Neighbors);
        }

        /// <summary>The model the validation users are scored on: every part built from the validation training data.</summary>
        public ModelSnapshot ValidationModel(Dictionary<long, ScoredIds> collaborative)
        {
            // Independent parts, each parallel inside: side by side they also fill each other's serial stretches (the
            // popular lists' matrix, the pass over every event for trending, dictionaries).
            // Popular lists weigh events with their own half-life: the same split of a matrix built with it.
            var popularity = Task.Run(() => PopularityBuilder.BuildPopularity(TrainSplit(_options.Popularity.HalfLifeDays), _dataset.Users, _options));
            var heldOut = HeldOutByIds(_matrix, _heldOut);
            var trending = Task.Run(() => PopularityBuilder.BuildTrending(_dataset, _options, _clock, e => !IsHeldOut(heldOut, e)));
            var content = Task.Run(() => ItemNeighborBuilder.Content(_train, _options));
            var profiles = Task.Run(() => UserModelBuilder.BuildProfiles(_train, _options));
            var userNeighbors = UserModelBuilder.BuildNeighbors(_train, _options);
            return ModelSnapshot.FromModel(_dataset.Items, new GlobalModel(
                popularity.Result, trending.Result, new ItemNeighborModel(collaborative, content.Result), userNeighbors, profiles.Result));
        }

        /// <summary>
        /// The same held-out split of the matrix weighted with another decay half-life, made once per half-life (the
        /// popular lists' and the chosen decay's are often the same).
        /// </summary>
        private InteractionMatrix TrainSplit(double halfLifeDays) =>
            halfLifeDays == _options.History.DecayHalfLifeDays
                ? _train
                : _trainSplits.GetOrAdd(halfLifeDays, h => new Lazy<InteractionMatrix>(
                    () => _matrices.WithHalfLife(h).HoldOut(HoldOutFraction, seed: 17, _options.Tuning.TrainUsers).Train)).Value;

        private readonly ConcurrentDictionary<double, Lazy<InteractionMatrix>> _trainSplits = new();

        /// <summary>
        /// Step 2: the history's decay half-life, the configured one or none, through the engine with the configured blend.
        /// No decay is tried first: decay assumes the data drifts, so it must win clearly (by <see cref="DecayMargin"/>).
        /// </summary>
        public (double HalfLife, UserCandidates[] Candidates, double Ndcg) ChooseDecay(ModelSnapshot validation)
        {
            (double HalfLife, UserCandidates[] Candidates, double Ndcg)? decay = null;
            foreach (var halfLife in new[] { 0, _options.History.DecayHalfLifeDays }.Distinct())
            {
                if (decay is not null && !InBudget())
                {
                    break;
                }
                var snapshot = validation with { Tuning = new ModelTuning { DataClock = _clock, DecayHalfLifeDays = halfLife } };
                var candidates = Candidates(snapshot);
                var ndcg = Measure(_engine, snapshot, candidates, _truth, _defaults);
                Tried++;
                if (decay is null || ndcg > decay.Value.Ndcg * (1 + DecayMargin))
                {
                    decay = (halfLife, candidates, ndcg);
                }
            }
            return decay!.Value;
        }

        /// <summary>
        /// The embedding source fitted (like the served one) on weights with the chosen decay, added to the validation
        /// model, and the candidates and the configured blend's score measured again with it; unchanged when no source fits.
        /// </summary>
        public (ModelSnapshot Scored, UserCandidates[] Candidates, double DefaultsNdcg) WithEmbeddings(
            ModelSnapshot scored, UserCandidates[] candidates, double defaultsNdcg, double halfLife)
        {
            var embeddings = ItemEmbeddingBuilder.Build(TrainSplit(halfLife), _options, ItemEmbeddingBuilder.Settings(_matrix, _options));
            if (embeddings.Count == 0)
            {
                return (scored, candidates, defaultsNdcg);
            }
            scored = scored with { Embeddings = embeddings };
            candidates = WithEmbeddingSource(scored, candidates);
            Tried++;
            return (scored, candidates, Measure(_engine, scored, candidates, _truth, _defaults));
        }

        /// <summary>
        /// Step 3: the per-source weights of the rank fusion, by coordinate ascent on nDCG@10 over candidates laid out once
        /// for the many blends tried. The embedding source must earn its place against the best blend without it, by
        /// <see cref="EmbeddingMargin"/>: at L a 0.6% validation gain was a 0.0026 loss on the test split
        /// (docs/EVALUATION.md). When it does not, the build does not fit it on the whole data either.
        /// </summary>
        public (BlendWeights Weights, double Score) ChooseBlend(ModelSnapshot scored, UserCandidates[] candidates, double defaultsNdcg)
        {
            var blends = new BlendSearch(this, scored, candidates);
            var (weights, score) = blends.Ascend(_defaults, defaultsNdcg, fixedToZero: -1);
            if (weights.Embeddings > 0)
            {
                var start = _defaults with { Embeddings = 0f };
                var (without, withoutScore) = blends.Ascend(start, blends.Measure(start), fixedToZero: BlendWeights.IndexOf(BlendWeights.EmbeddingsSource));
                Tried++;
                if (score < withoutScore * (1 + EmbeddingMargin))
                {
                    (weights, score) = (without, withoutScore);
                }
            }
            return (weights, score);
        }

        /// <summary>Each validation user's candidates on <paramref name="snapshot"/>, with the serving history rule.</summary>
        private UserCandidates[] Candidates(ModelSnapshot snapshot)
        {
            _histories ??= Histories(_dataset, _matrix, ValidationUsers, _heldOut, _options.History.RecentEvents);
            _userIds ??= ValidationUsers.Select(u => _matrix.UserIds[u]).ToArray();
            _demographics ??= _dataset.Users.ToDictionary(u => u.Id, u => new Demographics(u.Gender, u.AgeGroup, u.GeoId));
            var (histories, userIds, demographics) = (_histories, _userIds, _demographics);
            var candidates = new UserCandidates[userIds.Length];
            Parallel.For(0, userIds.Length, u => candidates[u] = _engine.Candidates(snapshot, userIds[u], histories[u],
                demographics.GetValueOrDefault(userIds[u]), RecommendationFilters.None, _clock));
            return candidates;
        }

        /// <summary>
        /// <paramref name="candidates"/> (on the same model without embeddings) with the embedding source asked on
        /// <paramref name="snapshot"/>: no other source reads the embeddings, so theirs are kept.
        /// </summary>
        private UserCandidates[] WithEmbeddingSource(ModelSnapshot snapshot, UserCandidates[] candidates)
        {
            var source = BlendWeights.IndexOf(BlendWeights.EmbeddingsSource);
            var (histories, userIds) = (_histories!, _userIds!);
            var updated = new UserCandidates[candidates.Length];
            Parallel.For(0, candidates.Length, u => updated[u] = _engine.WithSource(snapshot, candidates[u], source, userIds[u], histories[u],
                RecommendationFilters.None, _clock));
            return updated;
        }

        private UserHistory[]? _histories;
        private long[]? _userIds;
        private Dictionary<long, Demographics>? _demographics;

        /// <summary>The blends tried in step 3, measured on candidates prepared once.</summary>
        private sealed class BlendSearch
        {
            private readonly Search _search;
            private readonly ModelSnapshot _scored;
            private readonly BlendCandidates?[] _prepared;
            private readonly double[] _fixedNdcg;

            public BlendSearch(Search search, ModelSnapshot scored, UserCandidates[] candidates)
            {
                (_search, _scored) = (search, scored);
                _prepared = new BlendCandidates?[candidates.Length];
                _fixedNdcg = new double[candidates.Length];
                var (engine, truth, defaults, prepared, fixedNdcg) = (search._engine, search._truth, search._defaults, _prepared, _fixedNdcg);
                Parallel.For(0, candidates.Length, u =>
                {
                    if (candidates[u].Sources is null)
                    {
                        fixedNdcg[u] = RankingMetrics.Ndcg(engine.Rank(scored, candidates[u], defaults).ItemIds, truth[u], K); // one source: no blend to fit
                    }
                    else
                    {
                        prepared[u] = engine.Prepare(scored, candidates[u]);
                    }
                });
            }

            public double Measure(BlendWeights blend)
            {
                // The ascent comes back to blends it measured (in a later pass, in the search without embeddings: 11 of
                // 116 at S); the candidates are fixed, so the score is too.
                if (_measured.TryGetValue(blend, out var measured))
                {
                    return measured;
                }
                var (engine, truth, scored, prepared, fixedNdcg) = (_search._engine, _search._truth, _scored, _prepared, _fixedNdcg);
                var sums = new double[prepared.Length];
                Parallel.For(0, prepared.Length, u =>
                    sums[u] = prepared[u] is { } p ? RankingMetrics.Ndcg(engine.Rank(scored, p, blend).ItemIds, truth[u], K) : fixedNdcg[u]);
                return _measured[blend] = sums.Length == 0 ? 0 : sums.Average();
            }

            private readonly Dictionary<BlendWeights, double> _measured = [];

            /// <summary>Coordinate ascent from <paramref name="start"/>; <paramref name="fixedToZero"/> is a source left out (its weight stays 0).</summary>
            public (BlendWeights Weights, double Score) Ascend(BlendWeights start, double startScore, int fixedToZero)
            {
                var (weights, score) = (start, startScore);
                for (var pass = 0; pass < 3 && (pass == 0 || _search.InBudget()); pass++)
                {
                    var improved = false;
                    for (var source = 0; source < BlendWeights.SourceCount && (pass == 0 || _search.InBudget()); source++)
                    {
                        if (source == fixedToZero)
                        {
                            continue;
                        }
                        var current = weights[source];
                        var values = current > 0 ? s_weightFactors.Select(f => current * f) : [0.05f, 0.1f, 0.3f];
                        foreach (var value in values)
                        {
                            var trial = weights.With(source, value);
                            var ndcg = Measure(trial);
                            _search.Tried++;
                            if (ndcg > score + 1e-5)
                            {
                                (weights, score, improved) = (trial, ndcg, true);
                            }
                        }
                    }
                    if (!improved)
                    {
                        break;
                    }
                }
                return (weights, score);
            }
        }
    }

    /// <summary>
    /// The dataset minus the held-out events: what the validation model may know (trending counts events directly; built
    /// from every event it would list the held-out items, and on data with one timestamp it is the whole popularity).
    /// </summary>
    internal static Dataset WithoutHeldOut(Dataset dataset, InteractionMatrix matrix, Dictionary<int, HashSet<int>> heldOut)
    {
        var byIds = HeldOutByIds(matrix, heldOut);
        return new Dataset(dataset.Items, dataset.Users, Array.FindAll(dataset.Interactions, e => !IsHeldOut(byIds, e)));
    }

    /// <summary>
    /// The held-out items of each held-out user, by ids: a pass over every event (50M at XL) then asks one small
    /// dictionary (the validation users) instead of three large ones per event.
    /// </summary>
    internal static Dictionary<long, HashSet<long>> HeldOutByIds(InteractionMatrix matrix, Dictionary<int, HashSet<int>> heldOut) =>
        heldOut.ToDictionary(p => matrix.UserIds[p.Key], p => p.Value.Select(i => matrix.ItemIds[i]).ToHashSet());

    internal static bool IsHeldOut(Dictionary<long, HashSet<long>> heldOut, in Interaction e) =>
        heldOut.TryGetValue(e.UserId, out var items) && items.Contains(e.ItemId);

    private static TimeSpan CpuTime()
    {
        using var process = Process.GetCurrentProcess();
        return process.TotalProcessorTime;
    }

    private static string Name(CollaborativeModel model) => model == CollaborativeModel.Ease ? "ease" : "knn";

    private static RecommendationOptions WithMaxResults(RecommendationOptions options, int maxResults)
    {
        var copy = options.Clone();
        copy.Scoring.MaxResults = maxResults;
        return copy;
    }

    /// <summary>Mean nDCG@K of the engine's ranking with <paramref name="blend"/> over the validation users.</summary>
    private static double Measure(ScoringEngine engine, ModelSnapshot snapshot, UserCandidates[] candidates, HashSet<long>[] truth, BlendWeights blend)
    {
        var sums = new double[candidates.Length];
        Parallel.For(0, candidates.Length, u =>
            sums[u] = RankingMetrics.Ndcg(engine.Rank(snapshot, candidates[u], blend).ItemIds, truth[u], K));
        return candidates.Length == 0 ? 0 : sums.Average();
    }

    /// <summary>Binary-relevance nDCG@k (gain 1/log2(rank + 1), ideal over min(k, |truth|)).</summary>
    private static int[] Sample(IEnumerable<int> users, int max, int seed)
    {
        var all = users.Order().ToArray();
        if (max > 0 && all.Length > max)
        {
            new Random(seed).Shuffle(all);
            all = all.Take(max).Order().ToArray();
        }
        return all;
    }

    /// <summary>Each validation user's events minus their held-out items, by the serving history rule.</summary>
    internal static UserHistory[] Histories(Dataset dataset, InteractionMatrix matrix, int[] users, Dictionary<int, HashSet<int>> heldOut, int recent)
    {
        // Keyed by user id: of every event, only the validation users' (a thousand) go on to the item lookups.
        var position = new Dictionary<long, int>(users.Length);
        for (var k = 0; k < users.Length; k++)
        {
            position[matrix.UserIds[users[k]]] = k;
        }
        var events = users.Select(_ => new List<HistoryEvent>()).ToArray();
        foreach (var e in dataset.Interactions)
        {
            if (position.TryGetValue(e.UserId, out var k)
                && matrix.ItemIndex.TryGetValue(e.ItemId, out var item) && !heldOut[users[k]].Contains(item))
            {
                events[k].Add(new HistoryEvent(e.ItemId, e.Type, e.Value, e.OccurredAt));
            }
        }
        return events.Select(list => UserHistory.From(list, recent)).ToArray();
    }
}
