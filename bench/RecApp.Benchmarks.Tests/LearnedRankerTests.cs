using RecApp.Benchmarks.Ranking;
using RecApp.Engine.Domain;
using RecApp.Engine.Model;
using RecApp.Engine.Scoring;

namespace RecApp.Benchmarks.Tests;

public sealed class LearnedRankerTests
{
    /// <summary>
    /// Groups of 20 candidates with noise features; the one relevant item of each group is the one whose feature 2 is
    /// set, while feature 0 (a decoy) is highest on some other item. Trained on 60 groups, the ranker must put the
    /// signalled item first in every one of 40 new groups, and a saved and reloaded model must score the same.
    /// </summary>
    [Fact]
    public void Learns_to_put_the_feature_signalled_item_first_and_survives_a_save_and_load()
    {
        var random = new Random(3);
        RankingGroup Group()
        {
            const int size = 20;
            var relevant = random.Next(size);
            var decoy = (relevant + 1 + random.Next(size - 1)) % size;
            var rows = new float[size][];
            for (var r = 0; r < size; r++)
            {
                rows[r] = [random.NextSingle(), random.NextSingle(), r == relevant ? 1f : 0f, random.NextSingle()];
            }
            rows[decoy][0] = 2f;
            return new RankingGroup(rows, [.. Enumerable.Range(0, size).Select(r => r == relevant)]);
        }
        var training = Enumerable.Range(0, 60).Select(_ => Group()).ToArray();
        var ranker = LearnedRanker.Train(training, new LearnedRankerOptions { Trees = 20, Leaves = 4, MinimumExamplesPerLeaf = 5, LearningRate = 0.2 });

        Assert.NotNull(ranker);
        Assert.Equal(4, ranker.Width);
        using var stream = new MemoryStream();
        ranker.Save(stream);
        stream.Position = 0;
        var reloaded = LearnedRanker.Load(stream);
        foreach (var group in Enumerable.Range(0, 40).Select(_ => Group()))
        {
            var scores = ranker.Score(group.Rows);
            var best = Array.IndexOf(scores, scores.Max());
            Assert.True(group.Relevant[best], "the signalled item is not first");
            Assert.Equal(scores, reloaded.Score(group.Rows));
        }
    }

    [Fact]
    public void Training_without_any_relevant_candidate_gives_no_ranker()
    {
        var rows = new[] { new[] { 1f, 0f }, new[] { 0f, 1f } };
        Assert.Null(LearnedRanker.Train([new RankingGroup(rows, [false, false])], new LearnedRankerOptions()));
    }

    [Fact]
    public void Candidate_features_are_one_row_per_candidate_of_the_top_per_source()
    {
        var clock = new DateTime(2020, 1, 31, 0, 0, 0, DateTimeKind.Utc);
        CatalogItem Item(long id, string category, decimal price) => new(id, $"item {id}", category, [category], price, null, true, clock.AddDays(-id));
        var snapshot = ModelSnapshot.Empty with
        {
            Catalog = Catalog.Create([Item(1, "a", 10), Item(2, "a", 10), Item(3, "b", 30), Item(10, "a", 10), Item(11, "b", 100), Item(12, "a", 20), Item(13, "c", 10)]),
        };
        var history = UserHistory.From([new HistoryEvent(1, InteractionType.View, null, clock), new HistoryEvent(2, InteractionType.View, null, clock),
            new HistoryEvent(3, InteractionType.View, null, clock)], 100);
        var candidates = new UserCandidates(clock, new Dictionary<long, float> { [13] = 1f })
        {
            Algorithm = RecommendationAlgorithm.Collaborative,
            // Rank scores, best first: source 0 proposes 10, 11, 12 (12 beyond the top 2 kept), source 1 proposes 11.
            Sources = [new() { [10] = 1f, [11] = 0.9f, [12] = 0.8f }, new() { [11] = 1f }, [], new() { [13] = 1f }, []],
        };
        var blend = new BlendWeights(1f, 0.5f, 0f, 0f);

        var rows = new CandidateFeatures(snapshot, perSource: 2).Extract(candidates, history, blend);

        Assert.NotNull(rows);
        Assert.Equal([10L, 11L, 13L], rows.Ids);
        var names = CandidateFeatures.Names(BlendWeights.SourceNames);
        Assert.All(rows.Rows, r => Assert.Equal(CandidateFeatures.Count(BlendWeights.SourceCount), r.Length));
        Assert.Equal(names.Length, CandidateFeatures.Count(BlendWeights.SourceCount));
        float Feature(long id, string name) => rows.Rows[Array.IndexOf(rows.Ids, id)][Array.IndexOf(names, name)];
        Assert.Equal(2f, Feature(11, "sources_proposing"));
        Assert.Equal(1f, Feature(11, "user_neighbors_present"));
        Assert.Equal(0f, Feature(10, "user_neighbors_present"));
        Assert.Equal(1.4f, Feature(11, "blend_score"), 5);
        Assert.Equal(1f, Feature(11, "blend_rank"));
        Assert.Equal(2f, Feature(10, "blend_rank"));
        Assert.Equal(2f / 3, Feature(10, "category_share"), 5);
        Assert.Equal(0f, Feature(13, "category_share"));
        Assert.Equal(1f, Feature(13, "segment_popularity"));
        Assert.Equal(11f, Feature(11, "age_days"), 3);
        // Mean price of the history is 50/3; item 11 costs 100.
        Assert.Equal((float)((100 - 50.0 / 3) / (1 + 50.0 / 3)), Feature(11, "price_distance"), 4);
        Assert.Null(new CandidateFeatures(snapshot, 2).Extract(new UserCandidates(clock, []) { Single = [] }, history, blend));
    }
}
