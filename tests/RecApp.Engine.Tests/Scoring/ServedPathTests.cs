using RecApp.Engine.Domain;
using RecApp.Engine.Model;
using RecApp.Engine.Training;
using RecApp.Engine.Scoring;

namespace RecApp.Engine.Tests;

/// <summary>
/// The served path's correctness, in memory: time is the data's clock (shifting every timestamp gives the same lists;
/// old data never decays to nothing), and nothing the user ever interacted with comes back, however old.
/// </summary>
public sealed class ServedPathTests
{
    private static readonly DateTime s_end = TestModels.End;

    private static RecommendationOptions Options() => TestModels.Tuned();

    private static Dataset Shift(Dataset data, TimeSpan by) => new(
        data.Items.Select(i => i with { CreatedAt = i.CreatedAt + by }).ToArray(),
        data.Users,
        data.Interactions.Select(e => e with { OccurredAt = e.OccurredAt + by }).ToArray());

    private static UserHistory History(Dataset data, long userId, int recent) => UserHistory.From(
        data.Interactions.Where(e => e.UserId == userId).Select(e => new HistoryEvent(e.ItemId, e.Type, e.Value, e.OccurredAt)), recent);

    [Theory]
    [InlineData(-20)]
    [InlineData(20)]
    public void Shifting_every_timestamp_by_20_years_gives_the_same_lists(int years)
    {
        var data = TestModels.SyntheticData;
        var shifted = Shift(data, s_end.AddYears(years) - s_end);
        var options = Options();
        var engine = new ScoringEngine(options);
        var original = TestModels.Synthetic;
        var moved = ModelSnapshot.FromModel(shifted.Items, GlobalModelBuilder.Build(shifted, options));

        // Served as the API serves: with today's wall clock, whatever the data's dates.
        var now = DateTime.UtcNow;
        Assert.Equal(original.Tuning.DataClock!.Value.AddYears(years), moved.Tuning.DataClock);
        Assert.Equal(original.Tuning.Blend, moved.Tuning.Blend);
        foreach (var userId in data.Interactions.Select(e => e.UserId).Distinct().Order().Take(40))
        {
            var a = engine.ForUser(original, userId, History(data, userId, options.History.RecentEvents), new Demographics(), RecommendationFilters.None, now);
            var b = engine.ForUser(moved, userId, History(shifted, userId, options.History.RecentEvents), new Demographics(), RecommendationFilters.None, now);
            Assert.Equal(a.ItemIds, b.ItemIds);
            Assert.Equal(a.Algorithm, b.Algorithm);
            Assert.True(a.Scores[0] > a.Scores[^1], "scores must order the list, not tie at zero");
        }
        var popular = engine.Popular(moved, new Demographics(), RecommendationFilters.None, now);
        Assert.Equal(engine.Popular(original, new Demographics(), RecommendationFilters.None, now).ItemIds, popular.ItemIds);
        Assert.True(popular.ItemIds.Length >= 10, $"popular answered {popular.ItemIds.Length} items");
    }

    [Fact]
    public void Decay_of_decades_old_events_stays_above_zero()
    {
        Assert.Equal(1f, RecommendationOptions.Decay(10_000, 0));
        Assert.Equal(0.5f, RecommendationOptions.Decay(30, 30), 5);
        Assert.Equal(RecommendationOptions.MinimumDecay, RecommendationOptions.Decay(365 * 30, 30));
        Assert.True(RecommendationOptions.Decay(365 * 30, 30) > 0f);
    }

    [Fact]
    public void Nothing_ever_interacted_with_comes_back_however_old()
    {
        var data = TestModels.SyntheticData;
        var options = Options();
        var snapshot = TestModels.Synthetic;
        var engine = new ScoringEngine(options);
        var heavy = data.Interactions.GroupBy(e => e.UserId).OrderByDescending(g => g.Select(e => e.ItemId).Distinct().Count()).First().Key;
        // Only the 5 newest events weigh; the dozens before them must still be excluded.
        var history = History(data, heavy, recent: 5);
        Assert.True(history.Seen.Count > 20);
        Assert.Equal(5, history.Recent.Count);

        var list = engine.ForUser(snapshot, heavy, history, new Demographics(), RecommendationFilters.None, DateTime.UtcNow);
        Assert.Equal(RecommendationAlgorithm.Collaborative, list.Algorithm);
        Assert.NotEmpty(list.ItemIds);
        Assert.Empty(list.ItemIds.Intersect(history.Seen));
    }

    [Fact]
    public void History_rule_keeps_the_newest_events_and_every_item()
    {
        var t = s_end;
        var events = new[]
        {
            new HistoryEvent(1, InteractionType.View, null, t.AddDays(-3)),
            new HistoryEvent(2, InteractionType.View, null, t.AddDays(-1)),
            new HistoryEvent(3, InteractionType.Purchase, null, t.AddDays(-1)),
            new HistoryEvent(4, InteractionType.Click, null, t),
        };
        var history = UserHistory.From(events, recent: 2);
        Assert.Equal([4L, 3L], history.Recent.Select(e => e.ItemId)); // equal times: higher item id first, as the SQL orders
        Assert.Equal([1L, 2L, 3L, 4L], history.Seen.Order());
    }

    [Fact]
    public void The_build_records_the_data_clock_and_a_validation_score_not_below_the_defaults()
    {
        var data = TestModels.SyntheticData;
        var tuning = TestModels.Synthetic.Tuning;
        Assert.Equal(data.Interactions.Max(e => e.OccurredAt), tuning.DataClock);
        Assert.NotNull(tuning.Blend);
        Assert.NotNull(tuning.DecayHalfLifeDays);
        Assert.True(tuning.ValidationUsers > 0);
        Assert.True(tuning.ValidationNdcg >= tuning.DefaultsValidationNdcg, $"{tuning.ValidationNdcg} < {tuning.DefaultsValidationNdcg}");
        Assert.Contains(tuning.ItemModel, new[] { "knn", "ease" });
    }

    [Fact]
    public void Dual_ease_gives_the_primal_weights()
    {
        // More items than users: the dual inverts the smaller users × users matrix.
        var data = TestDatasets.Synthetic(150, 60, 2_000, seed: 4, end: s_end);
        var matrix = InteractionMatrix.Build(data, new RecommendationOptions(), s_end);
        var primal = EaseBuilder.TryBuild(matrix, 50, 10_000, 30, EaseBuilder.Solver.Primal)!;
        var dual = EaseBuilder.TryBuild(matrix, 50, 10_000, 30, EaseBuilder.Solver.Dual)!;
        Assert.Equal(primal.Keys.Order(), dual.Keys.Order());
        Assert.Contains(primal.Values, list => list.Scores[^1] < 0); // negative weights are kept, last
        foreach (var (item, list) in primal)
        {
            var other = dual[item];
            var weights = list.Ids.Zip(list.Scores).ToDictionary(p => p.First, p => p.Second);
            var otherWeights = other.Ids.Zip(other.Scores).ToDictionary(p => p.First, p => p.Second);
            // The strongest weights agree (the kept sets can differ only at ties on the cut).
            Assert.Equal(list.Ids[0], other.Ids[0]);
            foreach (var id in weights.Keys.Intersect(otherWeights.Keys))
            {
                Assert.Equal(weights[id], otherWeights[id], 3);
            }
            Assert.True(list.Scores.Zip(list.Scores.Skip(1)).All(p => p.First >= p.Second));
        }
    }
}
