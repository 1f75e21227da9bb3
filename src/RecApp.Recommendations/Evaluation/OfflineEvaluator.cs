using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using RecApp.Recommendations.Data;
using RecApp.Recommendations.Model;
using RecApp.Recommendations.Scoring;

namespace RecApp.Recommendations.Evaluation;

/// <summary>How to run an offline evaluation. Defaults: the protocol (75/25 per user, seed 42, top 10).</summary>
public sealed record EvaluationOptions
{
    public int K { get; init; } = 10;
    public double TestFraction { get; init; } = 0.25;
    public int Seed { get; init; } = 42;

    /// <summary>Test users scored at most (a deterministic sample when there are more; 0 = all).</summary>
    public int MaxUsers { get; init; } = 10_000;

    /// <summary>Model options; null = production defaults.</summary>
    public RecommendationOptions? Model { get; init; }

    /// <summary>Sources to report; the hybrid is the production answer.</summary>
    public IReadOnlyList<CandidateSource> Sources { get; init; } =
        [CandidateSource.Popular, CandidateSource.Content, CandidateSource.ItemKnn, CandidateSource.UserKnn, CandidateSource.Hybrid];
}

/// <summary>Metrics of one source, averaged over test users (Microsoft Recommenders' definitions).</summary>
public sealed record SourceMetrics(
    string Source, double PrecisionAtK, double RecallAtK, double NdcgAtK, double MapAtK, double Coverage, int Users);

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

    public string ToJson() => JsonSerializer.Serialize(this, s_json);

    /// <summary>A markdown table (renders as plain text in a terminal too).</summary>
    public string ToTable()
    {
        var text = new StringBuilder();
        var k = K.ToString(CultureInfo.InvariantCulture);
        text.AppendLine($"| source | P@{k} | R@{k} | nDCG@{k} | MAP@{k} | coverage | users |");
        text.AppendLine("|---|---:|---:|---:|---:|---:|---:|");
        foreach (var r in Results)
        {
            text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {r.Source} | {r.PrecisionAtK:F4} | {r.RecallAtK:F4} | {r.NdcgAtK:F4} | {r.MapAtK:F4} | {r.Coverage:F4} | {r.Users} |"));
        }
        text.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"\n{Items} items (item model: {ItemModel}), {TrainInteractions} train / {TestInteractions} test interactions, {TestUsers} test users; model built in {BuildSeconds:F1} s, scored in {ScoreSeconds:F1} s."));
        return text.ToString();
    }
}

/// <summary>
/// Offline evaluation with the production builders and scoring: per-user stratified random split of distinct items
/// (every event on a test item goes to test), model built on train, top K per user excluding train items.
/// </summary>
public static class OfflineEvaluator
{
    public static EvaluationReport Evaluate(Dataset dataset, EvaluationOptions options)
    {
        var modelOptions = options.Model ?? new RecommendationOptions();
        var (train, test) = Split(dataset, options.TestFraction, options.Seed);
        var asOf = dataset.Interactions.Length == 0 ? DateTime.UtcNow : dataset.Interactions.Max(i => i.OccurredAt);

        var build = Stopwatch.StartNew();
        var model = GlobalModelBuilder.Build(train, modelOptions, asOf);
        var snapshot = ModelSnapshot.FromModel(dataset.Items, model);
        var buildSeconds = build.Elapsed.TotalSeconds;

        var histories = train.Interactions.GroupBy(i => i.UserId)
            .ToDictionary(g => g.Key, g => g.Select(i => new HistoryEvent(i.ItemId, i.Type, i.Value, i.OccurredAt)).ToList());
        var demographics = dataset.Users.ToDictionary(u => u.Id, u => new Demographics(u.Gender, u.AgeGroup, u.GeoId));
        var users = test.Keys.Order().ToArray();
        if (options.MaxUsers > 0 && users.Length > options.MaxUsers)
        {
            var random = new Random(options.Seed);
            users = users.OrderBy(_ => random.Next()).Take(options.MaxUsers).Order().ToArray();
        }

        var score = Stopwatch.StartNew();
        var engine = new ScoringEngine(modelOptions);
        var catalogSize = dataset.Items.Count(i => i.Active);
        var results = new List<SourceMetrics>();
        foreach (var source in options.Sources)
        {
            var lists = new long[users.Length][];
            Parallel.For(0, users.Length, u =>
            {
                var userId = users[u];
                var ranked = engine.ForUser(snapshot, userId, histories.GetValueOrDefault(userId) ?? [],
                    demographics.GetValueOrDefault(userId) ?? new Demographics(), RecommendationFilters.None, asOf, source);
                lists[u] = ranked.ItemIds.Take(options.K).ToArray();
            });
            var name = source == CandidateSource.ItemKnn && model.ItemModel == CollaborativeModel.Ease ? "ease" : source.ToString().ToLowerInvariant();
            results.Add(Measure(name, lists, users.Select(u => test[u]).ToArray(), options.K, catalogSize));
        }
        return new EvaluationReport(options.K, model.ItemModel.ToString().ToLowerInvariant(), dataset.Items.Count, train.Interactions.Length,
            dataset.Interactions.Length - train.Interactions.Length, users.Length, buildSeconds, score.Elapsed.TotalSeconds, results);
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
            double dcg = 0, precisionSum = 0;
            for (var rank = 1; rank <= top.Length; rank++)
            {
                if (truth.Contains(top[rank - 1]))
                {
                    hits++;
                    dcg += 1 / Math.Log2(rank + 1);
                    precisionSum += (double)hits / rank;
                }
            }
            double ideal = 0;
            for (var rank = 1; rank <= Math.Min(k, truth.Count); rank++)
            {
                ideal += 1 / Math.Log2(rank + 1);
            }
            precision += (double)hits / k;
            recall += (double)hits / truth.Count;
            ndcg += dcg / ideal;
            map += precisionSum / truth.Count;
        }
        var n = Math.Max(users, 1);
        return new SourceMetrics(source, precision / n, recall / n, ndcg / n, map / n,
            catalogSize == 0 ? 0 : (double)distinct.Count / catalogSize, users);
    }
}
