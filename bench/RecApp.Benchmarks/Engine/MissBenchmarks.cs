using BenchmarkDotNet.Attributes;
using RecApp.Engine;
using RecApp.Engine.Domain;
using RecApp.Engine.Model;
using RecApp.Engine.Scoring;
using RecApp.Engine.Training;

namespace RecApp.Benchmarks.Engine;

/// <summary>
/// The engine's share of one cache miss at size S (issue 18), phase by phase: the whole <c>ForUser</c>, stage one
/// (every candidate source and the rank scores), each source alone, and stage two (fusion, freshness, order, popular
/// fill, diversity). Users with 3+ items (the blend tier, what a miss on the load's users costs), 100 newest events
/// each. Per user; the history read and the HTTP/cache layers are not included. The phases and the sources run as
/// <c>ForUser</c> runs them: with a pooled scratch (<see cref="ScoringScratch"/>) rented per user and returned after.
/// Run: <c>dotnet run -c Release --project bench/RecApp.Benchmarks -- --filter '*MissBenchmarks*'</c>.
/// </summary>
[MemoryDiagnoser]
public class MissBenchmarks
{
    private const int Users = 300;
    private RecommendationOptions _options = null!;
    private ModelSnapshot _snapshot = null!;
    private ScoringEngine _engine = null!;
    private CandidateSources _sources = null!;
    private (long UserId, UserHistory History)[] _users = [];
    private CandidateContext[] _contexts = [];
    private UserCandidates[] _candidates = [];
    private static readonly Demographics Segment = new("f", "25-34", 2);

    [GlobalSetup]
    public void Setup()
    {
        var data = EngineData.Create("S");
        _options = new RecommendationOptions();
        _snapshot = ModelSnapshot.FromModel(data.Items, GlobalModelBuilder.Build(data, _options, EngineData.Now));
        _engine = new ScoringEngine(_options);
        _sources = new CandidateSources(_options);
        _users = data.Interactions.GroupBy(i => i.UserId)
            .Where(g => g.Select(i => i.ItemId).Distinct().Count() >= 3)
            .OrderBy(g => g.Key)
            .Where((_, index) => index % 37 == 0)
            .Take(Users)
            .Select(g => (g.Key, UserHistory.From(g.OrderByDescending(i => i.OccurredAt).Take(_options.History.RecentEvents)
                .Select(i => new HistoryEvent(i.ItemId, i.Type, i.Value, i.OccurredAt)).ToList(), int.MaxValue)))
            .ToArray();
        _candidates = [.. _users.Select(u => _engine.Candidates(_snapshot, u.UserId, u.History, Segment, RecommendationFilters.None, EngineData.Now))];
        _contexts = [.. _users.Select(u => Context(u.UserId, u.History))];
    }

    /// <summary>The context stage one builds (same weights, exclusion and popular list).</summary>
    private CandidateContext Context(long userId, UserHistory history)
    {
        var clock = ScoringEngine.Clock(_snapshot, history.Recent, EngineData.Now);
        var weights = _engine.AggregateHistory(history.Recent, clock, _snapshot.Tuning.DecayHalfLifeDays ?? _options.History.DecayHalfLifeDays);
        var seen = history.Seen;
        var catalog = _snapshot.Catalog;
        bool Allowed(long id) => !seen.Contains(id) && !weights.ContainsKey(id) && RecommendationFilters.None.Admits(catalog.Find(id));
        var popular = _sources.Popular.Score(_snapshot, Segment, Allowed);
        return new CandidateContext(_snapshot, userId, weights, Allowed, popular);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Users)]
    public int ForUser()
    {
        var total = 0;
        foreach (var (userId, history) in _users)
        {
            total += _engine.ForUser(_snapshot, userId, history, Segment, RecommendationFilters.None, EngineData.Now).ItemIds.Length;
        }
        return total;
    }

    [Benchmark(OperationsPerInvoke = Users)]
    public int StageOneCandidates()
    {
        var total = 0;
        foreach (var (userId, history) in _users)
        {
            var scratch = ScoringScratch.Rent();
            total += _engine.Candidates(_snapshot, userId, history, Segment, RecommendationFilters.None, EngineData.Now, CandidateSource.Hybrid, scratch).Popular.Count;
            ScoringScratch.Return(scratch);
        }
        return total;
    }

    [Benchmark(OperationsPerInvoke = Users)]
    public int StageTwoRank()
    {
        var total = 0;
        var blend = _snapshot.Tuning.Blend ?? BlendWeights.From(_options);
        foreach (var candidates in _candidates)
        {
            // Rank reads the rank-scored sources without changing them.
            var scratch = ScoringScratch.Rent();
            total += _engine.Rank(_snapshot, candidates, blend, scratch).ItemIds.Length;
            ScoringScratch.Return(scratch);
        }
        return total;
    }

    [Benchmark(OperationsPerInvoke = Users)]
    public int SourceItemNeighbors() => Propose(_sources.ItemNeighbors);

    [Benchmark(OperationsPerInvoke = Users)]
    public int SourceUserNeighbors() => Propose(_sources.UserNeighbors);

    [Benchmark(OperationsPerInvoke = Users)]
    public int SourceContent() => Propose(_sources.Content);

    [Benchmark(OperationsPerInvoke = Users)]
    public int SourceEmbeddings() => Propose(_sources.Embeddings);

    [Benchmark(OperationsPerInvoke = Users)]
    public int SourcePopular()
    {
        var total = 0;
        foreach (var context in _contexts)
        {
            var scratch = ScoringScratch.Rent();
            total += _sources.Popular.Score(_snapshot, Segment, context.Allowed, scratch.Scores()).Count;
            ScoringScratch.Return(scratch);
        }
        return total;
    }

    private int Propose(ICandidateSource source)
    {
        var total = 0;
        foreach (var context in _contexts)
        {
            var scratch = ScoringScratch.Rent();
            total += source.Propose(context with { Scratch = scratch }).Count;
            ScoringScratch.Return(scratch);
        }
        return total;
    }
}
