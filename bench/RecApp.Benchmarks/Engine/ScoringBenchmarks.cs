using BenchmarkDotNet.Attributes;
using RecApp.Engine;
using RecApp.Engine.Model;
using RecApp.Engine.Training;
using RecApp.Data;
using RecApp.Data.Models;
using RecApp.Api.Model;
using RecApp.Engine.Domain;
using RecApp.Engine.Scoring;

namespace RecApp.Benchmarks.Engine;

/// <summary>
/// Scoring cost per user from the in-memory model (candidate generation, blend, filters, diversity), for users
/// with the production history length (the 100 most recent events). The PostgreSQL history read is not included.
/// </summary>
[MemoryDiagnoser]
public class ScoringBenchmarks
{
    private const int Users = 500;
    private ModelSnapshot _snapshot = null!;
    private ScoringEngine _engine = null!;
    private (long UserId, List<HistoryEvent> History)[] _users = [];

    [Params("S", "L")]
    public string Size { get; set; } = "S";

    [GlobalSetup]
    public void Setup()
    {
        var data = EngineData.Create(Size);
        var options = new RecommendationOptions();
        _snapshot = ModelSnapshot.FromModel(data.Items, GlobalModelBuilder.Build(data, options, EngineData.Now));
        _engine = new ScoringEngine(options);
        // Users with 3+ items (the collaborative tier, the most expensive), a deterministic spread of activity levels.
        _users = data.Interactions.GroupBy(i => i.UserId)
            .Where(g => g.Select(i => i.ItemId).Distinct().Count() >= 3)
            .OrderBy(g => g.Key)
            .Where((_, index) => index % 37 == 0)
            .Take(Users)
            .Select(g => (g.Key, g.OrderByDescending(i => i.OccurredAt).Take(options.History.RecentEvents)
                .Select(i => new HistoryEvent(i.ItemId, i.Type, i.Value, i.OccurredAt)).ToList()))
            .ToArray();
    }

    [Benchmark(OperationsPerInvoke = Users)]
    public int PersonalizedPerUser()
    {
        var total = 0;
        foreach (var (userId, history) in _users)
        {
            total += _engine.ForUser(_snapshot, userId, history, new Demographics("f", "25-34", 2), RecommendationFilters.None, EngineData.Now).ItemIds.Length;
        }
        return total;
    }

    [Benchmark(OperationsPerInvoke = Users)]
    public int PersonalizedWithFiltersPerUser()
    {
        var total = 0;
        var filters = new RecommendationFilters(PriceFrom: 50, PriceTo: 300, GeoId: 2);
        foreach (var (userId, history) in _users)
        {
            total += _engine.ForUser(_snapshot, userId, history, new Demographics("f", "25-34", 2), filters, EngineData.Now).ItemIds.Length;
        }
        return total;
    }

    [Benchmark]
    public int PopularForSegment() =>
        _engine.Popular(_snapshot, new Demographics("f", "25-34", 2), RecommendationFilters.None, EngineData.Now).ItemIds.Length;
}
