using RecApp.Engine.Domain;
using RecApp.Engine.Model;
using RecApp.Engine.Embeddings;
using RecApp.Engine.Scoring;

namespace RecApp.Engine.Tests;

/// <summary>The tuning's fast ranking path gives exactly the served ranking, for any blend.</summary>
public sealed class BlendCandidatesTests
{
    private static readonly DateTime s_now = new(2026, 11, 1, 0, 0, 0, DateTimeKind.Utc);

    [Fact]
    public void Prepared_candidates_rank_exactly_like_the_served_blend_for_any_weights()
    {
        var data = TestModels.SyntheticData;
        var options = new RecommendationOptions { Tuning = { Budget = TimeSpan.Zero }, Scoring = { MaxResults = 30 } };
        var snapshot = TestModels.SyntheticUntuned;
        var engine = new ScoringEngine(options);
        var random = new Random(5);
        float Weight() => random.Next(4) == 0 ? 0f : (float)random.NextDouble() * 3;
        var blends = Enumerable.Range(0, 12).Select(_ => new BlendWeights(Weight(), Weight(), Weight(), Weight(), Weight()))
            .Append(new BlendWeights(0, 0, 0, 0, 1)).Append(new BlendWeights(0, 0, 0, 0, 0)).ToArray();

        var compared = 0;
        foreach (var user in data.Interactions.Select(i => i.UserId).Distinct().Take(60))
        {
            var history = UserHistory.From(data.Interactions.Where(i => i.UserId == user)
                .Select(i => new HistoryEvent(i.ItemId, i.Type, i.Value, i.OccurredAt)), options.History.RecentEvents);
            var candidates = engine.Candidates(snapshot, user, history, new Demographics(), RecommendationFilters.None, s_now);
            if (candidates.Sources is null)
            {
                continue;
            }
            var prepared = engine.Prepare(snapshot, candidates);
            foreach (var blend in blends)
            {
                var served = engine.Rank(snapshot, candidates, blend);
                var fast = engine.Rank(snapshot, prepared, blend);
                Assert.Equal(served.ItemIds, fast.ItemIds);
                Assert.Equal(served.Scores, fast.Scores);
                Assert.Equal(served.Algorithm, fast.Algorithm);
                compared++;
            }
        }
        Assert.True(compared >= 50 * blends.Length, $"{compared} rankings compared");
    }
}
