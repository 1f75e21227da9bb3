using RecApp.Engine.Domain;
using RecApp.Engine.Model;
using RecApp.Engine.Embeddings;
using RecApp.Engine.Scoring;

namespace RecApp.Engine.Tests;

/// <summary>Pure scoring over a model built from synthetic data: tiers, exclusion, filters, inactive items, diversity.</summary>
public sealed class ScoringEngineTests
{
    private static readonly DateTime s_now = TestModels.End;

    private static ModelSnapshot Snapshot => TestModels.Synthetic;
    private static Dataset Data => TestModels.SyntheticData;

    private static List<HistoryEvent> History(long userId) => Data.Interactions.Where(i => i.UserId == userId)
        .OrderByDescending(i => i.OccurredAt).Select(i => new HistoryEvent(i.ItemId, i.Type, i.Value, i.OccurredAt)).ToList();

    private static List<HistoryEvent> Events(params long[] items) =>
        items.Select((id, k) => new HistoryEvent(id, InteractionType.Like, null, s_now.AddHours(-k))).ToList();

    private static long ActiveUser => Data.Interactions.GroupBy(i => i.UserId).OrderByDescending(g => g.Count()).First().Key;

    [Fact]
    public void Tier_follows_the_number_of_distinct_items()
    {
        var engine = new ScoringEngine(new RecommendationOptions { Scoring = { MaxCategoryShare = 1, FreshnessBoost = 0 }, Popularity = { TrendingWeight = 0 } });
        var none = engine.ForUser(Snapshot, 99_999, [], new Demographics(), RecommendationFilters.None, s_now);
        var two = engine.ForUser(Snapshot, 99_999, Events(1, 2, 2, 1), new Demographics(), RecommendationFilters.None, s_now);
        var three = engine.ForUser(Snapshot, 99_999, Events(1, 2, 3), new Demographics(), RecommendationFilters.None, s_now);

        Assert.Equal(RecommendationAlgorithm.Popular, none.Algorithm);
        Assert.Equal(RecommendationAlgorithm.Content, two.Algorithm);
        Assert.Equal(RecommendationAlgorithm.Collaborative, three.Algorithm);
        Assert.Equal(200, none.ItemIds.Length);
        Assert.Equal(200, two.ItemIds.Length);
        Assert.Equal(200, three.ItemIds.Length);
        // Cold users get the global popular order (minus nothing: no history, no demographics).
        Assert.Equal(Snapshot.Popularity.Lists[new Demographics()].Ids.Take(10), none.ItemIds.Take(10));
    }

    [Fact]
    public void Content_tier_prefers_the_history_categories()
    {
        var engine = new ScoringEngine(new RecommendationOptions());
        var item = Data.Items[0];
        var list = engine.ForUser(Snapshot, 99_999, Events(item.Id), new Demographics(), RecommendationFilters.None, s_now);
        var top = list.ItemIds.Take(10).Select(id => Snapshot.Catalog.Find(id)!.Category).ToArray();
        Assert.True(top.Count(c => c == item.Category) >= 5, $"top 10 categories: {string.Join(", ", top)}");
    }

    [Fact]
    public void Items_in_the_history_are_never_recommended()
    {
        var engine = new ScoringEngine(new RecommendationOptions());
        var history = History(ActiveUser);
        var list = engine.ForUser(Snapshot, ActiveUser, history, new Demographics(), RecommendationFilters.None, s_now);
        Assert.Empty(list.ItemIds.Intersect(history.Select(h => h.ItemId)));
        Assert.Equal(list.ItemIds.Length, list.ItemIds.Distinct().Count());
    }

    [Fact]
    public void Filters_hold_for_every_returned_item_in_every_tier()
    {
        var engine = new ScoringEngine(new RecommendationOptions());
        // The biggest category, and the middle half of its prices: every tier has something that passes.
        var category = Data.Items.GroupBy(i => i.Category).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).First();
        var prices = category.Select(i => i.Price).Order().ToArray();
        var (from, to) = (prices[prices.Length / 4], prices[prices.Length * 3 / 4]);
        var filters = new RecommendationFilters(PriceFrom: from, PriceTo: to, Category: category.Key, GeoId: 2);
        var user = Data.Interactions.GroupBy(i => i.UserId).OrderByDescending(g => g.Count()).ElementAt(20).Key;
        foreach (var history in new[] { [], Events(1), History(user) })
        {
            var list = engine.ForUser(Snapshot, user, history, new Demographics("f", "25-34", 2), filters, s_now);
            Assert.NotEmpty(list.ItemIds);
            foreach (var id in list.ItemIds)
            {
                var item = Snapshot.Catalog.Find(id)!;
                Assert.InRange(item.Price, from, to);
                Assert.Equal(category.Key, item.Category);
                Assert.True(item.GeoId is null or 2, $"item {id} is in geo {item.GeoId}");
            }
        }
        var popular = engine.Popular(Snapshot, new Demographics(), filters, s_now);
        Assert.NotEmpty(popular.ItemIds);
        Assert.All(popular.ItemIds, id => Assert.Equal(category.Key, Snapshot.Catalog.Find(id)!.Category));
    }

    [Fact]
    public void Inactive_items_are_never_returned()
    {
        var engine = new ScoringEngine(new RecommendationOptions());
        var history = History(ActiveUser);
        var before = engine.ForUser(Snapshot, ActiveUser, history, new Demographics(), RecommendationFilters.None, s_now);
        var popularBefore = engine.Popular(Snapshot, new Demographics(), RecommendationFilters.None, s_now);
        var retired = before.ItemIds.Take(5).Concat(popularBefore.ItemIds.Take(5)).Distinct()
            .Select(id => Snapshot.Catalog.Find(id)! with { Active = false }).ToArray();
        var changed = Snapshot with { Catalog = Snapshot.Catalog.With(retired) };

        var after = engine.ForUser(changed, ActiveUser, history, new Demographics(), RecommendationFilters.None, s_now);
        var popularAfter = engine.Popular(changed, new Demographics(), RecommendationFilters.None, s_now);
        var similar = engine.Similar(changed, before.ItemIds[10])!;
        foreach (var item in retired)
        {
            Assert.DoesNotContain(item.Id, after.ItemIds);
            Assert.DoesNotContain(item.Id, popularAfter.ItemIds);
            Assert.DoesNotContain(item.Id, similar.ItemIds);
        }
    }

    [Fact]
    public void Lists_are_deterministic_and_ordered_by_score()
    {
        var engine = new ScoringEngine(new RecommendationOptions());
        var history = History(ActiveUser);
        var a = engine.ForUser(Snapshot, ActiveUser, history, new Demographics(), RecommendationFilters.None, s_now);
        var b = engine.ForUser(Snapshot, ActiveUser, history.AsEnumerable().Reverse().ToList(), new Demographics(), RecommendationFilters.None, s_now);
        Assert.Equal(a.ItemIds, b.ItemIds);
        for (var i = 1; i < a.Scores.Length; i++)
        {
            Assert.True(a.Scores[i] <= a.Scores[i - 1]);
        }
    }

    [Fact]
    public void No_category_takes_more_than_its_share_of_a_page()
    {
        var options = new RecommendationOptions { Scoring = { MaxCategoryShare = 0.3, DiversityPageSize = 10 } };
        var engine = new ScoringEngine(options);
        // Five items of one category: the raw list leans heavily to it.
        var narrow = Events([.. Data.Items.Where(i => i.Active && i.Category == Data.Items[0].Category).Take(5).Select(i => i.Id)]);
        var list = engine.ForUser(Snapshot, 99_999, narrow, new Demographics(), RecommendationFilters.None, s_now);
        for (var page = 0; page + 10 <= 100; page += 10)
        {
            var counts = list.ItemIds.Skip(page).Take(10).GroupBy(id => Snapshot.Catalog.Find(id)!.Category).Max(g => g.Count());
            Assert.True(counts <= 3, $"page at {page} has {counts} items of one category");
        }
        var unconstrained = new ScoringEngine(new RecommendationOptions { Scoring = { MaxCategoryShare = 1 } })
            .ForUser(Snapshot, 99_999, narrow, new Demographics(), RecommendationFilters.None, s_now);
        Assert.True(unconstrained.ItemIds.Take(10).GroupBy(id => Snapshot.Catalog.Find(id)!.Category).Max(g => g.Count()) > 3,
            "the test needs a user whose raw list is concentrated");
    }

    [Fact]
    public void New_items_get_the_freshness_boost()
    {
        // Two items with identical popularity; the one created yesterday must come first despite its larger id.
        var items = new[]
        {
            new CatalogItem(1, "old", "x", [], 10, null, true, s_now.AddDays(-400)),
            new CatalogItem(2, "new", "x", [], 10, null, true, s_now.AddDays(-1)),
        };
        var popularity = new PopularityModel(new Dictionary<Demographics, ScoredIds> { [new Demographics()] = new([1, 2], [1f, 1f]) });
        var snapshot = ModelSnapshot.Empty with { Catalog = Catalog.Create(items), Popularity = popularity };
        var boosted = new ScoringEngine(new RecommendationOptions { Scoring = { FreshnessBoost = 0.5f } }).Popular(snapshot, new Demographics(), RecommendationFilters.None, s_now);
        var plain = new ScoringEngine(new RecommendationOptions { Scoring = { FreshnessBoost = 0 } }).Popular(snapshot, new Demographics(), RecommendationFilters.None, s_now);
        Assert.Equal([2L, 1L], boosted.ItemIds);
        Assert.Equal([1L, 2L], plain.ItemIds);
    }

    [Fact]
    public void Content_orders_equally_fitting_items_by_their_popularity_in_the_category()
    {
        // Items 2 and 3 fit a history of item 1 equally (same category and tags); 3 is the category's best seller.
        var items = Enumerable.Range(1, 3).Select(id => new CatalogItem(id, $"i{id}", "x", ["a", "b"], 10, null, true, s_now.AddDays(-400))).ToArray();
        var snapshot = ModelSnapshot.Empty with
        {
            Catalog = Catalog.Create(items),
            Popularity = new PopularityModel(new Dictionary<Demographics, ScoredIds> { [new Demographics(Category: "x")] = new([3, 2], [10f, 1f]) }),
        };
        RankedList For(float boost) => new ScoringEngine(new RecommendationOptions { Scoring = { ContentPopularityBoost = boost, MaxCategoryShare = 1 } })
            .ForUser(snapshot, 1, Events(1), new Demographics(), RecommendationFilters.None, s_now);

        Assert.Equal([3L, 2L], For(4).ItemIds);
        Assert.Equal([2L, 3L], For(0).ItemIds); // equal fit without popularity: the id decides
    }

    [Fact]
    public void The_collaborative_tier_fuses_sources_by_rank_not_by_raw_scale()
    {
        // Item-kNN ranks 10 over 11 by a hair; popularity ranks 11 far over 10. Rank fusion weighs both orders alike,
        // so the source with the larger weight decides; a max-normalized blend would let popularity's raw gap win.
        var items = Enumerable.Range(1, 11).Select(id => new CatalogItem(id, $"i{id}", $"c{id}", [], 10, null, true, s_now.AddDays(-400))).ToArray();
        var neighbors = Enumerable.Range(1, 3).ToDictionary(id => (long)id, _ => new ScoredIds([10, 11], [1f, 0.99f]));
        var snapshot = ModelSnapshot.Empty with
        {
            Catalog = Catalog.Create(items),
            ItemNeighbors = new ItemNeighborModel(neighbors, new Dictionary<long, ScoredIds>()),
            Popularity = new PopularityModel(new Dictionary<Demographics, ScoredIds> { [new Demographics()] = new([11, 10], [1f, 0.01f]) }),
        };
        var options = new RecommendationOptions
        { Scoring = { CollaborativeWeight = 0.5f, ContentWeight = 0, PopularityWeight = 0.4f, MaxCategoryShare = 1, ContentPopularityBoost = 0 }, Popularity = { TrendingWeight = 0 } };
        var list = new ScoringEngine(options).ForUser(snapshot, 1, Events(1, 2, 3), new Demographics(), RecommendationFilters.None, s_now);
        Assert.Equal(RecommendationAlgorithm.Collaborative, list.Algorithm);
        Assert.Equal([10L, 11L], list.ItemIds.Take(2));
    }

    [Fact]
    public void Trending_items_are_lifted_in_popular_lists()
    {
        var items = new[]
        {
            new CatalogItem(1, "steady", "x", [], 10, null, true, s_now.AddDays(-400)),
            new CatalogItem(2, "rising", "x", [], 10, null, true, s_now.AddDays(-400)),
        };
        var snapshot = ModelSnapshot.Empty with
        {
            Catalog = Catalog.Create(items),
            Popularity = new PopularityModel(new Dictionary<Demographics, ScoredIds> { [new Demographics()] = new([1, 2], [1f, 0.9f]) }),
            Trending = new TrendingModel(new ScoredIds([2], [3f]), new Dictionary<string, ScoredIds>()),
        };
        var lifted = new ScoringEngine(new RecommendationOptions { Popularity = { TrendingWeight = 0.2f } }).Popular(snapshot, new Demographics(), RecommendationFilters.None, s_now);
        var plain = new ScoringEngine(new RecommendationOptions { Popularity = { TrendingWeight = 0 } }).Popular(snapshot, new Demographics(), RecommendationFilters.None, s_now);
        Assert.Equal([2L, 1L], lifted.ItemIds);
        Assert.Equal(0.9f + 0.2f, lifted.Scores[0], 4);
        Assert.Equal([1L, 2L], plain.ItemIds);
    }

    [Fact]
    public void Popular_falls_back_from_a_thin_segment_to_broader_ones()
    {
        var engine = new ScoringEngine(new RecommendationOptions { Scoring = { MaxCategoryShare = 1, FreshnessBoost = 0 }, Popularity = { TrendingWeight = 0 } }); // raw order: no re-rank, no boost
        // A (gender, age) segment that is stored, and a geo too thin to narrow it further.
        var stored = Snapshot.Popularity.Lists.Keys.First(k => k is { GeoId: null, Gender: not null, AgeGroup: not null, Category: null });
        var thinGeo = Enumerable.Range(1, 100).First(g => !Snapshot.Popularity.Lists.ContainsKey(stored with { GeoId = g })
            && !Snapshot.Popularity.Lists.ContainsKey(new Demographics(GeoId: g, Gender: stored.Gender)) && !Snapshot.Popularity.Lists.ContainsKey(new Demographics(GeoId: g, AgeGroup: stored.AgeGroup)));
        var segment = engine.Popular(Snapshot, new Demographics(stored.Gender, stored.AgeGroup, thinGeo), RecommendationFilters.None, s_now);
        var unknown = engine.Popular(Snapshot, new Demographics("x", "nobody", 999), RecommendationFilters.None, s_now);
        Assert.Equal(200, segment.ItemIds.Length);
        Assert.Equal(Snapshot.Popularity.Lists[stored].Ids.Take(20), segment.ItemIds.Take(20));
        Assert.Equal(Snapshot.Popularity.Lists[new Demographics()].Ids.Take(20), unknown.ItemIds.Take(20));
    }

    [Fact]
    public void Similar_returns_neighbors_or_null_for_unknown_items()
    {
        var engine = new ScoringEngine(new RecommendationOptions());
        var id = Snapshot.Popularity.Lists[new Demographics()].Ids[0];
        var similar = engine.Similar(Snapshot, id)!;
        Assert.Equal(RecommendationAlgorithm.Similar, similar.Algorithm);
        Assert.NotEmpty(similar.ItemIds);
        Assert.DoesNotContain(id, similar.ItemIds);
        Assert.Null(engine.Similar(Snapshot, 987_654));
    }

    [Fact]
    public void An_empty_model_still_answers()
    {
        var engine = new ScoringEngine(new RecommendationOptions());
        var list = engine.ForUser(ModelSnapshot.Empty, 1, Events(1, 2, 3), new Demographics(), RecommendationFilters.None, s_now);
        Assert.Empty(list.ItemIds);
        Assert.Equal(0, list.ModelVersion);
        Assert.Empty(engine.Popular(ModelSnapshot.Empty, new Demographics(), RecommendationFilters.None, s_now).ItemIds);
    }

    [Fact]
    public void Filters_admit_only_active_items_in_range_category_and_geo()
    {
        var item = new CatalogItem(1, "i", "books", [], 20m, 7, true, s_now);
        var filters = new RecommendationFilters(PriceFrom: 10m, PriceTo: 20m, Category: "books", GeoId: 7);
        Assert.True(filters.Admits(item));
        Assert.True(filters.Admits(item with { GeoId = null })); // no geo: served everywhere
        Assert.False(filters.Admits(null));
        Assert.False(filters.Admits(item with { Active = false }));
        Assert.False(filters.Admits(item with { Price = 20.01m }));
        Assert.False(filters.Admits(item with { Price = 9.99m }));
        Assert.False(filters.Admits(item with { Category = "music" }));
        Assert.False(filters.Admits(item with { GeoId = 8 }));
        Assert.True(RecommendationFilters.None.Admits(item with { GeoId = 8 }));
    }
}
