using RecApp.Engine.Domain;
using RecApp.Engine.Model;
using RecApp.Engine.Training;
using RecApp.Engine.Scoring;

namespace RecApp.Engine.Tests;

/// <summary>The embedding candidate source as the engine serves it: built with the model, folded in from the history.</summary>
public sealed class EmbeddingSourceTests
{
    private static readonly DateTime s_now = TestModels.End;

    private static ModelSnapshot Snapshot => TestModels.SyntheticUntuned;
    private static Dataset Data => TestModels.SyntheticData;

    private static readonly RecommendationOptions s_plain = new() { Scoring = { MaxCategoryShare = 1, FreshnessBoost = 0 }, Popularity = { TrendingWeight = 0 } };

    private static List<HistoryEvent> History(long userId) => Data.Interactions.Where(i => i.UserId == userId)
        .Select(i => new HistoryEvent(i.ItemId, i.Type, i.Value, i.OccurredAt)).ToList();

    private static long ActiveUser => Data.Interactions.GroupBy(i => i.UserId).OrderByDescending(g => g.Count()).First().Key;

    [Fact]
    public void The_build_makes_one_vector_per_item_someone_touched()
    {
        var touched = Data.Interactions.Select(i => i.ItemId).Distinct().Order().ToArray();
        Assert.Equal(touched, Snapshot.Embeddings.ItemIds);
        Assert.Equal(128, Snapshot.Embeddings.Vectors!.Factors);
    }

    [Fact]
    public void Embedding_source_alone_ranks_by_the_folded_in_vector_and_never_returns_the_history()
    {
        var engine = new ScoringEngine(s_plain);
        var history = History(ActiveUser);
        var list = engine.ForUser(Snapshot, ActiveUser, history, new Demographics(), RecommendationFilters.None, s_now, CandidateSource.Embeddings);

        var seen = history.Select(e => e.ItemId).ToHashSet();
        Assert.NotEmpty(list.ItemIds);
        Assert.DoesNotContain(list.ItemIds, seen.Contains);
        // The top of the list is the index's own answer for the same history weights (no other source mixed in).
        var weights = engine.AggregateHistory(history, ScoringEngine.Clock(Snapshot, history, s_now), s_plain.History.DecayHalfLifeDays);
        var direct = Snapshot.Embeddings.Recommend(weights, 10, id => !seen.Contains(id) && Snapshot.Catalog.IsActive(id));
        Assert.Equal(direct.Keys, list.ItemIds.Take(10));
    }

    [Theory]
    [InlineData(1)] // every item admitted: the first, shallow fetch holds the answer
    [InlineData(3)] // a third admitted: the shallow fetch comes up short and the deep one answers
    public void The_embedding_candidates_are_the_first_admitted_items_of_the_whole_ranking(int admitEvery)
    {
        var index = Snapshot.Embeddings;
        var history = History(ActiveUser);
        var weights = new ScoringEngine(s_plain).AggregateHistory(history, ScoringEngine.Clock(Snapshot, history, s_now), s_plain.History.DecayHalfLifeDays);
        bool Admits(long id) => id % admitEvery == 0;
        const int count = 20;
        Assert.True(index.Count > 2 * count + 50, "the index must hold more items than the deep fetch");

        var candidates = index.Recommend(weights, count, Admits);
        var wholeRanking = index.Recommend(weights, index.Count, Admits); // every item: the full order, filtered

        Assert.Equal(count, candidates.Count);
        Assert.Equal(wholeRanking.Take(count), candidates);
    }

    [Fact]
    public void A_fresh_event_changes_the_embedding_answer_at_once()
    {
        var engine = new ScoringEngine(s_plain);
        var history = History(ActiveUser);
        var before = engine.ForUser(Snapshot, ActiveUser, history, new Demographics(), RecommendationFilters.None, s_now, CandidateSource.Embeddings);

        var liked = before.ItemIds.Skip(5).Take(3).ToArray();
        var fresh = history.Concat(liked.Select(id => new HistoryEvent(id, InteractionType.Purchase, null, s_now))).ToList();
        var after = engine.ForUser(Snapshot, ActiveUser, fresh, new Demographics(), RecommendationFilters.None, s_now, CandidateSource.Embeddings);

        Assert.DoesNotContain(after.ItemIds, liked.Contains);
        Assert.NotEqual(before.ItemIds.Except(liked).Take(10), after.ItemIds.Take(10));
    }

    [Fact]
    public void A_blend_of_only_the_embedding_weight_serves_the_embedding_order()
    {
        var engine = new ScoringEngine(s_plain);
        var history = History(ActiveUser);
        var onlyEmbeddings = Snapshot with { Tuning = Snapshot.Tuning with { Blend = new BlendWeights(0, 0, 0, 0, 1) } };
        var alone = engine.ForUser(onlyEmbeddings, ActiveUser, history, new Demographics(), RecommendationFilters.None, s_now, CandidateSource.Embeddings);
        var hybrid = engine.ForUser(onlyEmbeddings, ActiveUser, history, new Demographics(), RecommendationFilters.None, s_now);

        Assert.Equal(RecommendationAlgorithm.Collaborative, hybrid.Algorithm);
        Assert.Equal(alone.ItemIds.Take(50), hybrid.ItemIds.Take(50));
        var explained = engine.ExplainSources(onlyEmbeddings, ActiveUser, UserHistory.From(history, 1000), new Demographics(), RecommendationFilters.None, s_now);
        Assert.All(hybrid.ItemIds.Take(10), id => Assert.Equal("embeddings", Assert.Single(explained[id]).Source));
    }

    [Fact]
    public void Similar_items_fall_back_to_the_embedding_space_when_an_item_has_no_collaborative_neighbors()
    {
        var engine = new ScoringEngine(s_plain);
        var item = Snapshot.Embeddings.ItemIds.First(id => Snapshot.Catalog.IsActive(id));
        var withoutNeighbors = Snapshot with
        {
            ItemNeighbors = new ItemNeighborModel(new Dictionary<long, ScoredIds>(), new Dictionary<long, ScoredIds>()),
        };

        var similar = engine.Similar(withoutNeighbors, item)!;

        Assert.NotEmpty(similar.ItemIds);
        Assert.DoesNotContain(item, similar.ItemIds);
        var nearest = Snapshot.Embeddings.Similar(item, 5, id => id != item && Snapshot.Catalog.IsActive(id));
        Assert.Equal(nearest.Where(p => p.Value > 0).Select(p => p.Key), similar.ItemIds.Take(nearest.Count(p => p.Value > 0)));
    }

    [Fact]
    public void A_build_whose_tuning_left_the_embedding_source_out_does_not_fit_it()
    {
        var options = new RecommendationOptions();
        var matrices = new DecayedMatrices(Data, options, s_now);
        var kept = new ModelTuning { DataClock = s_now, DecayHalfLifeDays = 0, Blend = new BlendWeights(1, 0, 0, 0, 0.5f) };
        var dropped = kept with { Blend = kept.Blend! with { Embeddings = 0f } };

        Assert.True(RecApp.Engine.Training.ItemEmbeddingBuilder.Build(matrices, options, kept).Count > 0);
        Assert.Equal(0, RecApp.Engine.Training.ItemEmbeddingBuilder.Build(matrices, options, dropped).Count);
    }
}
