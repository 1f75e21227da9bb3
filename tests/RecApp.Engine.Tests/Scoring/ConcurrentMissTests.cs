using RecApp.Engine.Domain;
using RecApp.Engine.Model;
using RecApp.Engine.Scoring;

namespace RecApp.Engine.Tests;

/// <summary>
/// A miss's working collections are pooled between requests (ScoringScratch): many users scored at once get exactly
/// the lists each gets alone.
/// </summary>
public sealed class ConcurrentMissTests
{
    private static ModelSnapshot Snapshot => TestModels.Synthetic;

    private static readonly (long UserId, List<HistoryEvent> History)[] s_users = TestModels.SyntheticData.Interactions
        .GroupBy(i => i.UserId)
        .OrderBy(g => g.Key)
        .Take(60)
        .Select(g => (g.Key, g.Select(i => new HistoryEvent(i.ItemId, i.Type, i.Value, i.OccurredAt)).ToList()))
        .ToArray();

    private static RankedList Serve(ScoringEngine engine, (long UserId, List<HistoryEvent> History) user) =>
        engine.ForUser(Snapshot, user.UserId, user.History, new Demographics(), RecommendationFilters.None, TestModels.End);

    [Fact]
    public void Users_scored_at_once_get_the_lists_they_get_alone()
    {
        var engine = new ScoringEngine(TestModels.Tuned());
        var alone = s_users.Select(u => Serve(engine, u)).ToArray();
        Assert.Contains(alone, l => l.Algorithm == RecommendationAlgorithm.Collaborative);

        // Every user eight times over, on as many threads as the pool gives: scratches are shared between requests.
        var together = new RankedList[s_users.Length * 8];
        Parallel.For(0, together.Length, new ParallelOptions { MaxDegreeOfParallelism = 16 },
            i => together[i] = Serve(engine, s_users[i % s_users.Length]));

        for (var i = 0; i < together.Length; i++)
        {
            var expected = alone[i % s_users.Length];
            Assert.Equal(expected.ItemIds, together[i].ItemIds);
            Assert.Equal(expected.Scores, together[i].Scores);
            Assert.Equal(expected.Algorithm, together[i].Algorithm);
        }
    }

    /// <summary>
    /// A pooled miss excludes the history by marks on dense ids, cleared when the scratch goes back; the unpooled path
    /// (the tuner's and the evaluator's) asks the history's sets. Both give every user the same list, filtered or not,
    /// users one after the other on reused scratches.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_pooled_miss_gives_the_list_of_the_unpooled_path(bool filtered)
    {
        var options = TestModels.Tuned();
        var engine = new ScoringEngine(options);
        var blend = Snapshot.Tuning.Blend ?? BlendWeights.From(options);
        Assert.NotEqual(0, Snapshot.Catalog.DenseIdLimit); // the synthetic catalog's ids are dense: the marks are used
        var filters = filtered
            ? new RecommendationFilters(Category: Snapshot.Catalog.Items.GroupBy(i => i.Category).OrderByDescending(g => g.Count()).First().Key)
            : RecommendationFilters.None;
        foreach (var (userId, events) in s_users)
        {
            var history = UserHistory.From(events, int.MaxValue);
            var pooled = engine.ForUser(Snapshot, userId, history, new Demographics(), filters, TestModels.End);
            var unpooled = engine.Rank(Snapshot, engine.Candidates(Snapshot, userId, history, new Demographics(), filters, TestModels.End), blend);
            Assert.Equal(unpooled.ItemIds, pooled.ItemIds);
            Assert.Equal(unpooled.Scores, pooled.Scores);
            Assert.DoesNotContain(pooled.ItemIds, history.Seen.Contains);
        }
    }
}
