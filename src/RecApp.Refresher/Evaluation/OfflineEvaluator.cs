using RecApp.Engine.Metrics;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using RecApp.Engine;
using RecApp.Engine.Domain;
using RecApp.Engine.Model;
using RecApp.Engine.Scoring;
using RecApp.Engine.Training;

namespace RecApp.Refresher.Evaluation;

/// <summary>How to run an offline evaluation. Defaults: the documented protocol (docs/EVALUATION.md) (75/25 per user, seed 42, top 10).</summary>
public sealed record EvaluationOptions
{
    public int K { get; init; } = 10;
    public double TestFraction { get; init; } = 0.25;
    public int Seed { get; init; } = 42;

    /// <summary>Test users scored at most (a deterministic sample when there are more; 0 = all).</summary>
    public int MaxUsers { get; init; } = 10_000;

    /// <summary>
    /// Protocol restriction (the Last.fm reference's): only items with at least this many users in train are candidates
    /// and count as test items (others are served as inactive; 0 or 1 = no restriction). Not a model setting.
    /// </summary>
    public int MinItemTrainUsers { get; init; }

    /// <summary>
    /// Evaluate a rebuild instead of a first build (null): the model is first built on this share of the train data, its
    /// oldest interactions, then rebuilt on all of it keeping that build's choices and starting from its embedding vectors,
    /// as the Refresher's later builds do.
    /// </summary>
    public double? RebuildFrom { get; init; }

    /// <summary>Model options; null = production defaults.</summary>
    public RecommendationOptions? Model { get; init; }

    /// <summary>The model options the evaluation builds with: <see cref="Model"/>, or the production defaults.</summary>
    public RecommendationOptions ModelOrDefaults => Model ?? new RecommendationOptions();

    /// <summary>Sources to report; the hybrid is the production answer.</summary>
    public IReadOnlyList<CandidateSource> Sources { get; init; } =
        [CandidateSource.Popular, CandidateSource.Content, CandidateSource.ItemKnn, CandidateSource.UserKnn, CandidateSource.Embeddings, CandidateSource.Hybrid];
}

/// <summary>Metrics of one source for one tier of users ("all", "0", "1-2", "3+"), averaged over test users (Microsoft Recommenders' definitions).</summary>
public sealed record SourceMetrics(
    string Source, double PrecisionAtK, double RecallAtK, double NdcgAtK, double MapAtK, double Coverage, int Users)
{
    public string Tier { get; init; } = "all";
}

public sealed record EvaluationReport(
    int K, string ItemModel, int Items, int TrainInteractions, int TestInteractions, int TestUsers, double BuildSeconds, double ScoreSeconds,
    IReadOnlyList<SourceMetrics> Results)
{
    private static readonly JsonSerializerOptions s_json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>What the build chose on its validation split (the settings the hybrid was scored with).</summary>
    public ModelTuning Tuning { get; init; } = ModelTuning.Default;

    /// <summary>Candidate items (active, and within the protocol's restriction).</summary>
    public int CandidateItems { get; init; }

    /// <summary>The embedding source's size: "factors × iterations" the build fitted (none: "off").</summary>
    public string Embeddings { get; init; } = "off";

    /// <summary>CPU time the model build took (all cores): comparable across runs on a shared, loaded machine.</summary>
    public double BuildCpuSeconds { get; init; }

    public string ToJson() => JsonSerializer.Serialize(this, s_json);

    /// <summary>A markdown table (renders as plain text in a terminal too): every source, overall and per tier.</summary>
    public string ToTable()
    {
        var text = new StringBuilder();
        var k = K.ToString(CultureInfo.InvariantCulture);
        text.AppendLine($"| source | tier | P@{k} | R@{k} | nDCG@{k} | MAP@{k} | coverage | users |");
        text.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|");
        foreach (var r in Results.OrderBy(r => r.Tier == "all" ? 0 : 1).ThenBy(r => r.Tier, StringComparer.Ordinal))
        {
            var name = r.Source == "hybrid" ? "**hybrid**" : r.Source;
            text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {name} | {r.Tier} | {r.PrecisionAtK:F4} | {r.RecallAtK:F4} | {r.NdcgAtK:F4} | {r.MapAtK:F4} | {r.Coverage:F4} | {r.Users} |"));
        }
        text.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"\n{Items} items ({CandidateItems} candidates; item model: {ItemModel}; embeddings: {Embeddings}), {TrainInteractions} train / {TestInteractions} test interactions, {TestUsers} test users; model built in {BuildSeconds:F1} s ({BuildCpuSeconds:F1} s CPU), scored in {ScoreSeconds:F1} s."));
        var t = Tuning;
        var blend = t.Blend is { } b
            ? string.Create(CultureInfo.InvariantCulture, $"item neighbors {b.ItemNeighbors:0.###}, user neighbors {b.UserNeighbors:0.###}, content {b.Content:0.###}, popular {b.Popular:0.###}, embeddings {b.Embeddings:0.###}")
            : "configured";
        text.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"Chosen on the validation split ({t.ValidationUsers} users, {t.SettingsTried} settings, {t.TuningSeconds:F1} s): {t.ItemModel}{(t.EaseLambda is { } l ? $" λ={l:0.##}" : "")}, decay half-life {t.DecayHalfLifeDays?.ToString("0.##", CultureInfo.InvariantCulture) ?? "configured"} days, blend {blend}; validation nDCG@10 {t.ValidationNdcg:F4} (configured blend {t.DefaultsValidationNdcg:F4}); data clock {t.DataClock:yyyy-MM-dd HH:mm:ss}."));
        return text.ToString();
    }
}

/// <summary>
/// Offline evaluation through the serving code: per-user stratified random split of distinct items (every event on a
/// test item goes to test), the model built on train by <see cref="GlobalModelBuilder"/> (the jobs' builders and
/// tuning, the data's clock), and each test user's list from <see cref="ScoringEngine"/> with the serving history rule
/// (<see cref="UserHistory.From(IEnumerable{HistoryEvent}, int)"/>: the <see cref="RecApp.Engine.HistoryOptions.RecentEvents"/> newest events weigh, every
/// train item is excluded), no filters.
/// </summary>
public static class OfflineEvaluator
{
    public static EvaluationReport Evaluate(Dataset dataset, EvaluationOptions options)
    {
        var run = Prepare(dataset, options);
        var score = Stopwatch.StartNew();
        var tiers = run.Users.Select(u => Tier(run.Histories.GetValueOrDefault(u))).ToArray();
        var results = new List<SourceMetrics>();
        foreach (var source in options.Sources)
        {
            var lists = run.Lists(source, options.K);
            var name = source == CandidateSource.ItemKnn && run.Model.ItemModel == CollaborativeModel.Ease ? "ease" : source.ToString().ToLowerInvariant();
            var truth = run.Users.Select(u => run.Test[u]).ToArray();
            results.Add(Measure(name, lists, truth, options.K, run.CandidateItems));
            foreach (var tier in new[] { UserTier.Label(0), UserTier.Label(1), UserTier.Label(UserTier.CollaborativeFrom) })
            {
                var members = Enumerable.Range(0, run.Users.Length).Where(i => tiers[i] == tier).ToArray();
                if (members.Length > 0)
                {
                    results.Add(Measure(name, members.Select(i => lists[i]).ToArray(), members.Select(i => truth[i]).ToArray(), options.K, run.CandidateItems)
                        with { Tier = tier });
                }
            }
        }
        return new EvaluationReport(options.K, run.Model.ItemModel.ToString().ToLowerInvariant(), dataset.Items.Count, run.Train.Interactions.Length,
            dataset.Interactions.Length - run.Train.Interactions.Length, run.Users.Length, run.BuildSeconds, score.Elapsed.TotalSeconds, results)
        {
            Tuning = run.Model.Tuning,
            CandidateItems = run.CandidateItems,
            BuildCpuSeconds = run.BuildCpuSeconds,
            Embeddings = run.Model.Embeddings.Vectors?.Settings is { } als
                ? run.Model.Tuning.EmbeddingsWarmStarted
                    ? $"{als.Factors} × {options.ModelOrDefaults.Embeddings.WarmIterations} from the first build's vectors"
                    : $"{als.Factors} × {als.Iterations}"
                : "off",
        };
    }

    private static string Tier(UserHistory? history) => UserTier.Label(history?.Seen.Count ?? 0);

    /// <summary>
    /// The split, the model built on train and the test users, ready to score: what <see cref="Evaluate"/> measures,
    /// and what a test compares with the served answer.
    /// </summary>
    public static EvaluationRun Prepare(Dataset dataset, EvaluationOptions options)
    {
        var modelOptions = options.ModelOrDefaults;
        var (train, test) = Split(dataset, options.TestFraction, options.Seed);
        if (options.MinItemTrainUsers > 1)
        {
            (train, test) = Restrict(train, test, options.MinItemTrainUsers);
        }

        // The first build of a rebuild is not timed: the figures are the served model's build.
        var first = options.RebuildFrom is { } share ? FirstBuild(train, share, modelOptions) : null;
        var build = Stopwatch.StartNew();
        var cpu = CpuSeconds();
        var model = first is not null
            ? GlobalModelBuilder.Build(train, modelOptions, GlobalModelBuilder.DataClock(train), first)
            : GlobalModelBuilder.Build(train, modelOptions);
        var snapshot = ModelSnapshot.FromModel(train.Items, model);
        var buildSeconds = build.Elapsed.TotalSeconds;
        var buildCpuSeconds = CpuSeconds() - cpu;

        var histories = train.Interactions.GroupBy(i => i.UserId).ToDictionary(g => g.Key,
            g => UserHistory.From(g.Select(i => new HistoryEvent(i.ItemId, i.Type, i.Value, i.OccurredAt)), modelOptions.History.RecentEvents));
        var demographics = dataset.Users.ToDictionary(u => u.Id, u => new Demographics(u.Gender, u.AgeGroup, u.GeoId));
        var users = test.Keys.Order().ToArray();
        if (options.MaxUsers > 0 && users.Length > options.MaxUsers)
        {
            var random = new Random(options.Seed);
            users = users.OrderBy(_ => random.Next()).Take(options.MaxUsers).Order().ToArray();
        }
        return new EvaluationRun(new ScoringEngine(modelOptions), snapshot, model, train, test, users, histories, demographics,
            train.Items.Count(i => i.Active), buildSeconds) { BuildCpuSeconds = buildCpuSeconds };
    }

    /// <summary>
    /// The similarities a first build makes from the oldest <paramref name="share"/> of the interactions (at least one;
    /// events with the same time keep their order in the data, so on data without times it is the first share read).
    /// Unlike the Refresher, the rebuild keeps its choices whatever the growth (<see cref="TuningOptions.RetuneAfterGrowth"/>).
    /// </summary>
    private static SimilarityParts FirstBuild(Dataset train, double share, RecommendationOptions options)
    {
        var count = Math.Max(1, (int)Math.Round(train.Interactions.Length * share));
        var oldest = train.Interactions.OrderBy(i => i.OccurredAt).Take(count).ToArray();
        var older = new Dataset(train.Items, train.Users, oldest);
        return GlobalModelBuilder.BuildSimilarities(older, options, GlobalModelBuilder.DataClock(older));
    }

    private static double CpuSeconds()
    {
        using var process = Process.GetCurrentProcess();
        return process.TotalProcessorTime.TotalSeconds;
    }

    /// <summary>Items with fewer than <paramref name="minUsers"/> train users become inactive (never candidates) and leave the test sets.</summary>
    private static (Dataset Train, Dictionary<long, HashSet<long>> Test) Restrict(Dataset train, Dictionary<long, HashSet<long>> test, int minUsers)
    {
        var users = train.Interactions.Select(i => (i.UserId, i.ItemId)).Distinct().GroupBy(p => p.ItemId).ToDictionary(g => g.Key, g => g.Count());
        var items = train.Items.Select(i => i.Active && users.GetValueOrDefault(i.Id) < minUsers ? i with { Active = false } : i).ToArray();
        var active = items.Where(i => i.Active).Select(i => i.Id).ToHashSet();
        var restricted = new Dictionary<long, HashSet<long>>();
        foreach (var (user, set) in test)
        {
            var kept = set.Where(active.Contains).ToHashSet();
            if (kept.Count > 0)
            {
                restricted[user] = kept;
            }
        }
        return (new Dataset(items, train.Users, train.Interactions), restricted);
    }

    /// <summary>
    /// Per user, distinct items shuffled with the seed; the first <c>round(n × (1 − testFraction))</c> are train, the
    /// rest test (a user with one item keeps it in train). Returns the train dataset and each user's test items.
    /// </summary>
    public static (Dataset Train, Dictionary<long, HashSet<long>> Test) Split(Dataset dataset, double testFraction, int seed)
    {
        var random = new Random(seed);
        var testItems = new Dictionary<long, HashSet<long>>();
        foreach (var group in dataset.Interactions.GroupBy(i => i.UserId).OrderBy(g => g.Key))
        {
            var items = group.Select(i => i.ItemId).Distinct().Order().ToArray();
            random.Shuffle(items);
            var trainCount = (int)Math.Round(items.Length * (1 - testFraction), MidpointRounding.AwayFromZero);
            trainCount = Math.Max(trainCount, 1);
            if (trainCount < items.Length)
            {
                testItems[group.Key] = [.. items[trainCount..]];
            }
        }
        var train = dataset.Interactions.Where(i => !(testItems.TryGetValue(i.UserId, out var t) && t.Contains(i.ItemId))).ToArray();
        return (new Dataset(dataset.Items, dataset.Users, train), testItems);
    }

    /// <summary>Averages per-user metrics; <paramref name="recommended"/>[u] is user u's top K, best first.</summary>
    public static SourceMetrics Measure(string source, IReadOnlyList<long[]> recommended, IReadOnlyList<HashSet<long>> relevant, int k, int catalogSize)
    {
        double precision = 0, recall = 0, ndcg = 0, map = 0;
        var distinct = new HashSet<long>();
        var users = 0;
        for (var u = 0; u < recommended.Count; u++)
        {
            var truth = relevant[u];
            if (truth.Count == 0)
            {
                continue;
            }
            users++;
            var top = recommended[u].Take(k).ToArray();
            distinct.UnionWith(top);
            int hits = 0;
            double precisionSum = 0;
            for (var rank = 1; rank <= top.Length; rank++)
            {
                if (truth.Contains(top[rank - 1]))
                {
                    hits++;
                    precisionSum += (double)hits / rank;
                }
            }
            precision += (double)hits / k;
            recall += (double)hits / truth.Count;
            ndcg += RankingMetrics.Ndcg(top, truth, k);
            map += precisionSum / truth.Count;
        }
        var n = Math.Max(users, 1);
        return new SourceMetrics(source, precision / n, recall / n, ndcg / n, map / n,
            catalogSize == 0 ? 0 : (double)distinct.Count / catalogSize, users);
    }
}

/// <summary>A prepared evaluation: the model built on train, and each test user's history, demographics and test items.</summary>
public sealed class EvaluationRun(
    ScoringEngine engine, ModelSnapshot snapshot, GlobalModel model, Dataset train, Dictionary<long, HashSet<long>> test, long[] users,
    Dictionary<long, UserHistory> histories, Dictionary<long, Demographics> demographics, int candidateItems, double buildSeconds)
{
    public ModelSnapshot Snapshot { get; } = snapshot;
    public GlobalModel Model { get; } = model;
    public Dataset Train { get; } = train;
    public Dictionary<long, HashSet<long>> Test { get; } = test;
    public long[] Users { get; } = users;
    public Dictionary<long, UserHistory> Histories { get; } = histories;
    public int CandidateItems { get; } = candidateItems;
    public double BuildSeconds { get; } = buildSeconds;
    public double BuildCpuSeconds { get; init; }

    /// <summary>One user's full ranked list from <paramref name="source"/>, as the API would compute it on this model.</summary>
    public RankedList For(long userId, CandidateSource source = CandidateSource.Hybrid) =>
        engine.ForUser(Snapshot, userId, Histories.GetValueOrDefault(userId) ?? UserHistory.Empty,
            demographics.GetValueOrDefault(userId), RecommendationFilters.None,
            Model.Tuning.DataClock ?? DateTime.UtcNow, source);

    /// <summary>Every test user's top <paramref name="k"/> from <paramref name="source"/>, in <see cref="Users"/> order.</summary>
    public long[][] Lists(CandidateSource source, int k)
    {
        var lists = new long[Users.Length][];
        Parallel.For(0, Users.Length, u => lists[u] = For(Users[u], source).ItemIds.Take(k).ToArray());
        return lists;
    }
}
