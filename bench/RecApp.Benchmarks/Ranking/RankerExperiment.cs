using System.Diagnostics;
using System.Globalization;
using RecApp.Benchmarks.Engine;
using RecApp.Engine;
using RecApp.Engine.Datasets;
using RecApp.Engine.Domain;
using RecApp.Engine.Model;
using RecApp.Engine.Scoring;
using RecApp.Engine.Training;
using RecApp.Refresher.Evaluation;

namespace RecApp.Benchmarks.Ranking;

/// <summary>
/// Does a learned LambdaRank ranker beat the tuned blend? For each split seed: the evaluation split and model exactly as
/// <c>evaluate</c> prepares them (<see cref="OfflineEvaluator.Prepare"/>, tuning included); a validation split carved
/// from the training part as <see cref="ModelTuner"/> carves it (10% of the items of users with 4+ items, seed 17) with
/// a validation model built with the settings the build chose; the ranker trained on the validation users' candidates
/// (binary labels: the held-out items); then, on the test users, nDCG@10 of the tuned blend (what is served) against
/// the ranker reordering the same candidates. Both lists go through the engine's stage two (freshness, diversity, fill).
/// <code>
/// dotnet run -c Release --project bench/RecApp.Benchmarks -- ranker-experiment --format movielens --path DIR [--seeds 42,1,2]
///   [--min-item-train-users 5] [--synthetic S|L] [--per-source 50] [--trainer lightgbm|fasttree] [--trees 100]
///   [--leaves 7] [--learning-rate 0.05] [--min-leaf 1000] [--max-train-users 3000] [--max-users 10000]
///   [--hold-out 0.1] [--drop history_log_length (feature,feature; none: --drop ,)] [--probe 1]
/// </code>
/// </summary>
internal static class RankerExperiment
{
    private const int K = 10;

    public static int Run(string[] args)
    {
        var arguments = Parse(args);
        string Get(string name, string fallback) => arguments.GetValueOrDefault(name) ?? fallback;
        int GetInt(string name, int fallback) => int.Parse(Get(name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);

        var load = Stopwatch.StartNew();
        Dataset dataset;
        string label;
        if (arguments.TryGetValue("synthetic", out var size))
        {
            dataset = EngineData.Create(size);
            label = $"synthetic {size}";
        }
        else
        {
            var format = Get("format", DatasetImportFormat.MovieLens);
            var path = arguments.GetValueOrDefault("path") ?? throw new ArgumentException("--path (or --synthetic) is required");
            dataset = DatasetImportFormat.Import(format, path).Dataset;
            label = $"{format} {path}";
        }
        Console.WriteLine($"{label}: {dataset.Items.Count} items, {dataset.Users.Count} users, {dataset.Interactions.Length} interactions (loaded in {load.Elapsed.TotalSeconds:F1} s)");

        var ranker = new LearnedRankerOptions
        {
            Trainer = Get("trainer", "lightgbm").Equals("fasttree", StringComparison.OrdinalIgnoreCase) ? RankerTrainer.FastTree : RankerTrainer.LightGbm,
            Trees = GetInt("trees", 100),
            Leaves = GetInt("leaves", 7),
            LearningRate = double.Parse(Get("learning-rate", "0.05"), CultureInfo.InvariantCulture),
            MinimumExamplesPerLeaf = GetInt("min-leaf", 1000),
        };
        var settings = new Settings(GetInt("min-item-train-users", 0), GetInt("per-source", 50), GetInt("max-train-users", 3000),
            GetInt("max-users", 10_000), ranker)
        {
            HoldOutFraction = double.Parse(Get("hold-out", "0.1"), CultureInfo.InvariantCulture),
            // By default without the history length: constant within a user's candidates, it only lets the trees tell
            // validation users apart (memorise), which lost on held-back users.
            Drop = [.. Get("drop", "history_log_length").Split(',', StringSplitOptions.RemoveEmptyEntries)],
            Probe = GetInt("probe", 1) != 0,
        };
        Console.WriteLine($"settings: {settings}");
        var seeds = Get("seeds", "42").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();

        var results = seeds.Select(seed => RunSeed(dataset, seed, settings)).ToArray();
        Console.WriteLine();
        Console.WriteLine("| seed | blend (served) nDCG@10 | ranker nDCG@10 | Δ | guarded (ranker chosen?) | ranker train CPU s | train rows | train groups |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in results)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {r.Seed} | {r.Blend:F4} | {r.Ranker:F4} | {r.Ranker - r.Blend:+0.0000;-0.0000} | {r.Guarded:F4} ({(r.RankerChosen ? "yes" : "no")}) | {r.TrainCpuSeconds:F1} | {r.TrainRows} | {r.TrainGroups} |"));
        }
        if (results.Length > 1)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| mean | {results.Average(r => r.Blend):F4} | {results.Average(r => r.Ranker):F4} | {results.Average(r => r.Ranker - r.Blend):+0.0000;-0.0000} | {results.Average(r => r.Guarded):F4} | {results.Average(r => r.TrainCpuSeconds):F1} | | |"));
        }
        return 0;
    }

    private sealed record Settings(int MinItemTrainUsers, int PerSource, int MaxTrainUsers, int MaxUsers, LearnedRankerOptions Ranker)
    {
        /// <summary>Share of each validation user's items held out (the tuner's 0.1 by default).</summary>
        public double HoldOutFraction { get; init; } = 0.1;

        /// <summary>Features zeroed before training and scoring (by <see cref="CandidateFeatures.Names"/> name): ablations.</summary>
        public string[] Drop { get; init; } = [];

        /// <summary>Also train on 80% of the validation users and measure on the rest (twice the training cost).</summary>
        public bool Probe { get; init; } = true;
    }

    private sealed record SeedResult(int Seed, double Blend, double Ranker, double TrainCpuSeconds, int TrainRows, int TrainGroups)
    {
        /// <summary>What a guarded build would serve: the ranker when it beat the blend on held-back validation users by <see cref="GuardMargin"/>.</summary>
        public double Guarded { get; init; } = double.NaN;
        public bool RankerChosen { get; init; }
    }

    /// <summary>Relative gain over the blend on held-back validation users the ranker needs to be chosen (as decay needs 2%).</summary>
    private const double GuardMargin = 0.01;

    private static SeedResult RunSeed(Dataset dataset, int seed, Settings settings)
    {
        var options = new RecommendationOptions();
        var watch = Stopwatch.StartNew();
        var run = OfflineEvaluator.Prepare(dataset, new EvaluationOptions
        {
            Seed = seed,
            MinItemTrainUsers = settings.MinItemTrainUsers,
            MaxUsers = settings.MaxUsers,
            Model = options,
        });
        var tuning = run.Model.Tuning;
        var clock = tuning.DataClock ?? GlobalModelBuilder.DataClock(run.Train);
        var blend = tuning.Blend ?? BlendWeights.From(options);
        Console.WriteLine($"\nseed {seed}: model built in {run.BuildSeconds:F1} s ({run.BuildCpuSeconds:F1} s CPU): {tuning.ItemModel} λ={tuning.EaseLambda}, decay {tuning.DecayHalfLifeDays}, blend {blend}");
        var engine = new ScoringEngine(options);
        var demographics = run.Train.Users.ToDictionary(u => u.Id, u => new Demographics(u.Gender, u.AgeGroup, u.GeoId));

        // The validation split and model, as the build's tuner carves and builds them, with the settings it chose.
        var stage = Stopwatch.StartNew();
        var matrix = InteractionMatrix.Build(run.Train, options, clock);
        var (train, heldOut) = matrix.HoldOut(settings.HoldOutFraction, seed: 17, options.Tuning.TrainUsers);
        var users = heldOut.Keys.Order().ToArray();
        if (users.Length > settings.MaxTrainUsers)
        {
            new Random(23).Shuffle(users);
            users = [.. users.Take(settings.MaxTrainUsers).Order()];
        }
        var collaborative = (tuning.ItemModel == "ease" && tuning.EaseLambda is { } lambda
            ? EaseBuilder.TryBuild(train, lambda, options.Neighbors.EaseMaxItems, options.Neighbors.EaseNeighbors)
            : null) ?? ItemNeighborBuilder.Collaborative(train, options);
        var popularityOptions = options.ForPopularity();
        var popularityTrain = ReferenceEquals(popularityOptions, options)
            ? train
            : InteractionMatrix.Build(run.Train, popularityOptions, clock).HoldOut(settings.HoldOutFraction, seed: 17, options.Tuning.TrainUsers).Train;
        var validation = ModelSnapshot.FromModel(run.Train.Items, new GlobalModel(
            PopularityBuilder.BuildPopularity(popularityTrain, run.Train.Users, options),
            // Trending from the validation training events only: built from every training event, it would list the held-out items.
            PopularityBuilder.BuildTrending(ModelTuner.WithoutHeldOut(run.Train, matrix, heldOut), options, clock),
            new ItemNeighborModel(collaborative, ItemNeighborBuilder.Content(train, options)),
            UserModelBuilder.BuildNeighbors(train, options),
            UserModelBuilder.BuildProfiles(train, options))) with { Tuning = tuning };
        // The embedding source, as ModelTuner fits it for its validation model: on the validation training part with the
        // decay the build chose and the ALS settings the full build fitted (left out only when the build left it out).
        // Without it the ranker trained and was guarded on four sources and tested against five.
        if (run.Model.Embeddings.Vectors?.Settings is { } als)
        {
            var halfLife = tuning.DecayHalfLifeDays ?? options.History.DecayHalfLifeDays;
            validation = validation with
            {
                Embeddings = ItemEmbeddingBuilder.Build(
                    halfLife == options.History.DecayHalfLifeDays
                        ? train
                        : InteractionMatrix.Build(run.Train, options.WithDecay(halfLife), clock).HoldOut(settings.HoldOutFraction, seed: 17, options.Tuning.TrainUsers).Train,
                    options, als),
            };
        }
        var histories = ModelTuner.Histories(run.Train, matrix, users, heldOut, options.History.RecentEvents);
        var validationFeatures = new CandidateFeatures(validation, settings.PerSource);
        var names = CandidateFeatures.Names(BlendWeights.SourceNames);
        var dropped = settings.Drop.Select(d => Array.IndexOf(names, d) is >= 0 and var i ? i : throw new ArgumentException($"--drop: no feature '{d}' ({string.Join(", ", names)})")).ToArray();
        var groups = new RankingGroup[users.Length];
        Parallel.For(0, users.Length, k =>
        {
            var userId = matrix.UserIds[users[k]];
            var candidates = engine.Candidates(validation, userId, histories[k],
                demographics.GetValueOrDefault(userId), RecommendationFilters.None, clock);
            if (validationFeatures.Extract(candidates, histories[k], blend) is { } rows)
            {
                Zero(rows, dropped);
                var truth = heldOut[users[k]].Select(i => matrix.ItemIds[i]).ToHashSet();
                groups[k] = new RankingGroup(rows.Rows, [.. rows.Ids.Select(truth.Contains)]);
            }
        });
        var trainingGroups = groups.OfType<RankingGroup>().ToArray();
        var recall = trainingGroups.Sum(g => g.Relevant.Count(r => r)) / (double)Math.Max(1, users.Sum(u => heldOut[u].Count));
        Console.WriteLine($"validation: {users.Length} users, {trainingGroups.Sum(g => g.Rows.Length)} candidate rows ({recall:P1} of held-out items among them), prepared in {stage.Elapsed.TotalSeconds:F1} s");

        var cpu = CpuSeconds();
        stage.Restart();
        var ranker = LearnedRanker.Train(trainingGroups, settings.Ranker) ?? throw new InvalidOperationException("no validation user has a held-out item among the candidates");
        var trainCpu = CpuSeconds() - cpu;
        var usefulGroups = trainingGroups.Count(g => g.Relevant.Contains(true));
        var trainRows = trainingGroups.Where(g => g.Relevant.Contains(true)).Sum(g => g.Rows.Length);
        Console.WriteLine($"ranker: trained in {stage.Elapsed.TotalSeconds:F1} s ({trainCpu:F1} s CPU) on {trainRows} rows, {usefulGroups} groups");
        // Does it generalise? A second ranker on 80% of the validation users, measured on the other 20% against the blend
        // score (plain order, no diversity): separates overfitting from a shift between the validation and test splits.
        var blendColumn = 2 * SourceCount(trainingGroups) + 1;
        var (heldBackBlend, heldBackRanker) = settings.Probe ? Probe(trainingGroups, blendColumn, settings.Ranker) : (double.NaN, double.NaN);
        var inSampleBlend = trainingGroups.Average(g => GroupNdcg(g, r => g.Rows[r][blendColumn]));
        var inSampleRanker = trainingGroups.Average(g => { var s = ranker.Score(g.Rows); return GroupNdcg(g, r => s[r]); });
        Console.WriteLine($"validation, plain order: in-sample nDCG@10 blend {inSampleBlend:F4}, ranker {inSampleRanker:F4}; 20% held back: blend {heldBackBlend:F4}, ranker trained on the other 80% {heldBackRanker:F4}");

        // The test users: the same candidates ranked by the tuned blend and by the ranker.
        stage.Restart();
        var features = new CandidateFeatures(run.Snapshot, settings.PerSource);
        var testCandidates = new UserCandidates[run.Users.Length];
        var testRows = new CandidateRows?[run.Users.Length];
        var blendLists = new long[run.Users.Length][];
        Parallel.For(0, run.Users.Length, u =>
        {
            var userId = run.Users[u];
            var history = run.Histories.GetValueOrDefault(userId) ?? UserHistory.Empty;
            testCandidates[u] = engine.Candidates(run.Snapshot, userId, history,
                demographics.GetValueOrDefault(userId), RecommendationFilters.None, clock);
            blendLists[u] = [.. engine.Rank(run.Snapshot, testCandidates[u], blend).ItemIds.Take(K)];
            testRows[u] = features.Extract(testCandidates[u], history, blend);
            if (testRows[u] is { } extracted)
            {
                Zero(extracted, dropped);
            }
        });
        // One batch through ML.NET, split back per user.
        var all = testRows.Where(r => r is not null).SelectMany(r => r!.Rows).ToArray();
        var allScores = ranker.Score(all);
        var rankerLists = new long[run.Users.Length][];
        // The path check: the blend score column through the same re-ranking path must give the blend's own lists.
        var throughPath = new long[run.Users.Length][];
        var offset = 0;
        for (var u = 0; u < run.Users.Length; u++)
        {
            if (testRows[u] is not { } rows)
            {
                rankerLists[u] = throughPath[u] = blendLists[u];
                continue;
            }
            var scores = allScores.AsSpan(offset, rows.Ids.Length);
            offset += rows.Ids.Length;
            rankerLists[u] = [.. engine.Rank(run.Snapshot, RankedCandidates(testCandidates[u], rows.Ids, scores), OnlyFirstSource(blend, testCandidates[u])).ItemIds.Take(K)];
            var blendScores = rows.Rows.Select(r => r[blendColumn]).ToArray();
            throughPath[u] = [.. engine.Rank(run.Snapshot, RankedCandidates(testCandidates[u], rows.Ids, blendScores), OnlyFirstSource(blend, testCandidates[u])).ItemIds.Take(K)];
        }
        var truthLists = run.Users.Select(u => run.Test[u]).ToArray();
        var blendNdcg = OfflineEvaluator.Measure("blend", blendLists, truthLists, K, run.CandidateItems).NdcgAtK;
        var pathNdcg = OfflineEvaluator.Measure("path", throughPath, truthLists, K, run.CandidateItems).NdcgAtK;
        var rankerNdcg = OfflineEvaluator.Measure("ranker", rankerLists, truthLists, K, run.CandidateItems).NdcgAtK;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"test: {run.Users.Length} users scored in {stage.Elapsed.TotalSeconds:F1} s; nDCG@10 blend {blendNdcg:F4} (through the re-ranking path {pathNdcg:F4}), ranker {rankerNdcg:F4} (seed total {watch.Elapsed.TotalSeconds:F0} s)"));
        var chosen = settings.Probe && heldBackRanker > heldBackBlend * (1 + GuardMargin);
        return new SeedResult(seed, blendNdcg, rankerNdcg, trainCpu, trainRows, usefulGroups)
        {
            Guarded = settings.Probe ? (chosen ? rankerNdcg : blendNdcg) : double.NaN,
            RankerChosen = chosen,
        };
    }

    /// <summary>
    /// The ranker's order as a one-source candidate set: scores (c + 1)/(c + rank)-like, positive and in the ranker's
    /// order, so the engine's stage two (freshness, diversity, popular fill) treats it as it treats the blend.
    /// </summary>
    private static UserCandidates RankedCandidates(UserCandidates candidates, long[] ids, ReadOnlySpan<float> scores)
    {
        var order = Enumerable.Range(0, ids.Length).ToArray();
        var copy = scores.ToArray();
        Array.Sort(order, (a, b) => copy[a] != copy[b] ? copy[b].CompareTo(copy[a]) : ids[a].CompareTo(ids[b]));
        var ranked = new Dictionary<long, float>(ids.Length);
        for (var r = 0; r < order.Length; r++)
        {
            ranked[ids[order[r]]] = 1f / (1 + r);
        }
        var sources = new Dictionary<long, float>[candidates.Sources!.Length];
        sources[0] = ranked;
        for (var s = 1; s < sources.Length; s++)
        {
            sources[s] = [];
        }
        return new UserCandidates(candidates.Clock, candidates.Popular) { Algorithm = candidates.Algorithm, Sources = sources };
    }

    private static BlendWeights OnlyFirstSource(BlendWeights blend, UserCandidates candidates)
    {
        var weights = blend;
        for (var s = 0; s < candidates.Sources!.Length; s++)
        {
            weights = weights.With(s, s == 0 ? 1f : 0f);
        }
        return weights;
    }

    private static (double Blend, double Ranker) Probe(RankingGroup[] groups, int blendColumn, LearnedRankerOptions options)
    {
        var shuffled = groups.ToArray();
        new Random(5).Shuffle(shuffled);
        var heldBack = shuffled[..(shuffled.Length / 5)];
        var probe = LearnedRanker.Train(shuffled[(shuffled.Length / 5)..], options)!;
        return (heldBack.Average(g => GroupNdcg(g, r => g.Rows[r][blendColumn])),
            heldBack.Average(g => { var s = probe.Score(g.Rows); return GroupNdcg(g, r => s[r]); }));
    }

    private static void Zero(CandidateRows rows, int[] columns)
    {
        foreach (var row in rows.Rows)
        {
            foreach (var c in columns)
            {
                row[c] = 0f;
            }
        }
    }

    private static double GroupNdcg(RankingGroup g, Func<int, float> score)
    {
        var order = Enumerable.Range(0, g.Rows.Length).OrderByDescending(score).Take(K).ToArray();
        double dcg = 0, ideal = 0;
        for (var r = 0; r < order.Length; r++)
        {
            dcg += g.Relevant[order[r]] ? 1 / Math.Log2(r + 2) : 0;
        }
        for (var r = 0; r < Math.Min(K, g.Relevant.Count(x => x)); r++)
        {
            ideal += 1 / Math.Log2(r + 2);
        }
        return ideal > 0 ? dcg / ideal : 0;
    }

    private static int SourceCount(RankingGroup[] groups) => (groups[0].Rows[0].Length - CandidateFeatures.Count(0)) / 2;

    private static double CpuSeconds()
    {
        using var process = Process.GetCurrentProcess();
        return process.TotalProcessorTime.TotalSeconds;
    }

    private static Dictionary<string, string> Parse(string[] args)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal))
            {
                throw new ArgumentException($"expected an option, got '{args[i]}'");
            }
            result[args[i][2..]] = args[i + 1];
        }
        return result;
    }
}
