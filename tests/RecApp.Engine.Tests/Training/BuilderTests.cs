using RecApp.Engine.Domain;
using RecApp.Engine.Model;
using RecApp.Engine.Training;

namespace RecApp.Engine.Tests;

/// <summary>Each model part on small examples computed by hand (decay off, so every single purchase weighs ln 6).</summary>
public sealed class BuilderTests
{
    private static readonly DateTime s_now = new(2026, 11, 1, 12, 0, 0, DateTimeKind.Utc);
    private static readonly float s_w = MathF.Log(1 + 5); // one purchase, after log(1 + Σ)

    private static RecommendationOptions Plain() => new()
    { History = { DecayHalfLifeDays = 0 }, Neighbors = { Shrinkage = 0, PopularityDamping = 0, UserNeighborMinItems = 1 }, Popularity = { MinSegmentUsers = 2 } };

    private static CatalogItem Item(long id, string category, decimal price = 10, params string[] tags) =>
        new(id, $"item {id}", category, tags, price, null, true, s_now.AddDays(-100));

    private static Interaction Buy(long user, long item, double daysAgo = 1) =>
        new(user, item, InteractionType.Purchase, null, s_now.AddDays(-daysAgo));

    // A, B, C, D = items 1..4; u1 {A,B}, u2 {A,B}, u3 {A,C}, u4 {B}.
    private static Dataset Small() => new(
        [Item(1, "x", 10, "t1", "t2"), Item(2, "x", 20, "t1"), Item(3, "y", 30, "t2"), Item(4, "y", 40)],
        [new UserDemographics(1, "f", "25-34", 1), new UserDemographics(2, "f", "25-34", 1), new UserDemographics(3, "m", "18-24", 2)],
        [Buy(1, 1), Buy(1, 2), Buy(2, 1), Buy(2, 2), Buy(3, 1), Buy(3, 3), Buy(4, 2)]);

    [Fact]
    public void Event_weights_follow_the_type_order_and_ratings_scale()
    {
        var o = new RecommendationOptions();
        var order = new[] { InteractionType.View, InteractionType.Click, InteractionType.Like, InteractionType.WishlistAdd, InteractionType.AddToCart, InteractionType.Purchase };
        for (var i = 1; i < order.Length; i++)
        {
            Assert.True(o.EventWeight(order[i], null) > o.EventWeight(order[i - 1], null), $"{order[i]} should outweigh {order[i - 1]}");
        }
        Assert.Equal(o.History.PurchaseWeight, o.EventWeight(InteractionType.Rating, 5f));
        Assert.Equal(o.History.PurchaseWeight * 2 / 5, o.EventWeight(InteractionType.Rating, 2f), 5);
        Assert.Equal(0.5f, o.Decay(o.History.DecayHalfLifeDays), 5);
    }

    [Fact]
    public void Collaborative_neighbors_are_cosine_with_shrinkage_and_damping()
    {
        var plain = ItemNeighborBuilder.Build(Small(), Plain(), s_now).Collaborative;
        // co(A,B) = 2, n(A) = n(B) = 3 → 2/3; co(A,C) = 1, n(C) = 1 → 1/√3.
        Assert.Equal([2L, 3L], plain[1].Ids);
        Assert.Equal(2f / 3, plain[1].Scores[0], 5);
        Assert.Equal(1f / MathF.Sqrt(3), plain[1].Scores[1], 5);
        Assert.Equal([1L], plain[2].Ids);
        Assert.False(plain.ContainsKey(4)); // nobody touched D

        var shaped = ItemNeighborBuilder.Build(Small(), new RecommendationOptions
        { History = { DecayHalfLifeDays = 0 }, Neighbors = { Shrinkage = 10, PopularityDamping = 0.5f } }, s_now).Collaborative;
        Assert.Equal(2f / 3 * 2 / 12 / MathF.Sqrt(3), shaped[1].Scores[0], 5); // shrink 2/(2+10), damp 3^-0.5
        Assert.Equal(1f / MathF.Sqrt(3) * 1 / 11 / 1, shaped[1].Scores[1], 5);
    }

    [Fact]
    public void History_cap_keeps_only_the_most_recent_items_per_user()
    {
        // u1 bought A long ago, then B and C; with a cap of 2 only (B, C) co-occur.
        var data = new Dataset([Item(1, "x"), Item(2, "x"), Item(3, "x")], [],
            [Buy(1, 1, daysAgo: 30), Buy(1, 2, daysAgo: 2), Buy(1, 3, daysAgo: 1)]);
        var capped = ItemNeighborBuilder.Build(data, new RecommendationOptions { History = { DecayHalfLifeDays = 0 }, Neighbors = { Shrinkage = 0, MaxHistoryPerUser = 2 } }, s_now).Collaborative;
        Assert.False(capped.ContainsKey(1));
        Assert.Equal([3L], capped[2].Ids);
    }

    [Fact]
    public void Content_neighbors_are_category_and_tag_jaccard()
    {
        var content = ItemNeighborBuilder.Build(Small(), Plain(), s_now).Content;
        // A={x,t1,t2}, B={x,t1}, C={y,t2}, D={y}: J(A,B)=2/3, J(A,C)=1/4, J(C,D)=1/2, J(A,D)=0.
        Assert.Equal([2L, 3L], content[1].Ids);
        Assert.Equal(2f / 3, content[1].Scores[0], 3);
        Assert.Equal(1f / 4, content[1].Scores[1], 3);
        Assert.Equal([4L, 1L], content[3].Ids);
        Assert.Equal(1f / 2, content[3].Scores[0], 3);
        Assert.DoesNotContain(1L, content[4].Ids);
    }

    [Fact]
    public void Popularity_is_per_segment_with_thin_segments_left_out()
    {
        var model = PopularityBuilder.BuildPopularity(Small(), Plain(), s_now);
        var global = model.Lists[new Demographics()];
        Assert.Equal([1L, 2L, 3L], global.Ids); // A and B tie at 3w: the smaller id first
        Assert.Equal(3 * s_w, global.Scores[0], 4);
        Assert.Equal(s_w, global.Scores[2], 4);

        var women = model.Lists[new Demographics(Gender: "f")];
        Assert.Equal([1L, 2L], women.Ids);
        Assert.Equal(2 * s_w, women.Scores[0], 4);
        Assert.True(model.Lists.ContainsKey(new Demographics(GeoId: 1, Gender: "f", AgeGroup: "25-34")));
        Assert.False(model.Lists.ContainsKey(new Demographics(Gender: "m"))); // one user: thin

        Assert.Equal([3L], model.Lists[new Demographics(Category: "y")].Ids);
        Assert.Equal([1L, 2L], model.Lists[new Demographics(Gender: "f", Category: "x")].Ids);
        Assert.False(model.Lists.ContainsKey(new Demographics(GeoId: 1, Gender: "f", AgeGroup: "25-34", Category: "x"))); // multi-dimension: filtered at read time
    }

    [Fact]
    public void Fallback_chain_goes_from_specific_to_global()
    {
        var chain = Demographics.FallbackChain(7, "f", null).ToArray();
        Assert.Equal([new Demographics(GeoId: 7, Gender: "f"), new Demographics(GeoId: 7), new Demographics(Gender: "f"), new Demographics()], chain);
    }

    [Fact]
    public void Trending_counts_the_last_week_with_decay()
    {
        var data = new Dataset([Item(1, "x"), Item(2, "x"), Item(3, "y")], [],
            [Buy(1, 1, daysAgo: 2), Buy(2, 2, daysAgo: 10), Buy(3, 3, daysAgo: 0)]);
        var trending = PopularityBuilder.BuildTrending(data, new RecommendationOptions { Popularity = { TrendingHalfLifeDays = 2 } }, s_now);
        Assert.Equal([3L, 1L], trending.Overall.Ids);
        Assert.Equal(5f, trending.Overall.Scores[0], 4);
        Assert.Equal(5f * 0.5f, trending.Overall.Scores[1], 4); // two days = one half-life
        Assert.Equal([1L], trending.ByCategory["x"].Ids);
    }

    [Fact]
    public void Profiles_hold_normalized_preferences_average_price_and_count()
    {
        var data = new Dataset([Item(1, "x", 10, "t1", "t2"), Item(3, "y", 30, "t2")], [],
            [Buy(1, 1), new Interaction(1, 3, InteractionType.View, null, s_now), new Interaction(1, 3, InteractionType.View, null, s_now)]);
        var profile = UserModelBuilder.BuildProfiles(data, Plain(), s_now).Users[1];
        var wA = MathF.Log(6);
        var wC = MathF.Log(1 + 0.5f + 0.5f);
        Assert.Equal(wA / (wA + wC), profile.Categories["x"], 4);
        Assert.Equal(1f, profile.Categories.Values.Sum(), 4);
        Assert.Equal(wA / (wA + wA + wC), profile.Tags["t1"], 4);
        Assert.Equal((wA + wC) / (wA + wA + wC), profile.Tags["t2"], 4);
        Assert.Equal(Math.Round((decimal)((wA * 10 + wC * 30) / (wA + wC)), 2), profile.AvgPrice);
        Assert.Equal(3, profile.InteractionCount);
    }

    [Fact]
    public void User_neighbors_are_cosine_and_carry_their_items()
    {
        var model = UserModelBuilder.BuildNeighbors(Small(), Plain(), s_now);
        var (neighbors, items) = (model.Neighbors(1), model.Items(1));
        // u1 {A,B}: u2 {A,B} cos 1; u3 {A,C} cos 1/2; u4 {B} cos 1/√2.
        Assert.Equal([2L, 4L, 3L], neighbors.Ids);
        Assert.Equal(1f, neighbors.Scores[0], 4);
        Assert.Equal(1f / MathF.Sqrt(2), neighbors.Scores[1], 4);
        Assert.Equal(0.5f, neighbors.Scores[2], 4);
        // Items: A = (1 + 1/2) w, B = (1 + 1/√2) w, C = w/2.
        Assert.Equal([2L, 1L, 3L], items.Ids);
        Assert.Equal((1 + 1 / MathF.Sqrt(2)) * s_w, items.Scores[0], 4);
        Assert.Equal(0.5f * s_w, items.Scores[2], 4);
    }

    [Fact]
    public void Max_similar_users_caps_the_neighbor_list()
    {
        var model = UserModelBuilder.BuildNeighbors(Small(), new RecommendationOptions { History = { DecayHalfLifeDays = 0 }, Neighbors = { Shrinkage = 0, MaxSimilarUsers = 1, UserNeighborMinItems = 1 } }, s_now);
        Assert.Equal([2L], model.Neighbors(1).Ids);
    }

    [Fact]
    public void The_tuning_record_names_what_the_data_size_made_the_build_sample_or_choose()
    {
        Assert.Null(GlobalModelBuilder.Build(Small(), Plain(), s_now).Tuning.ScaleChoices);

        var small = Plain();
        small.Neighbors.EaseMaxItems = 1; // 3 items with users and 4 users: neither side fits
        small.Neighbors.MaxUsersPerItem = 2;
        small.Neighbors.UserNeighborItemUsers = 2;
        var model = GlobalModelBuilder.Build(Small(), small, s_now);
        var choices = model.Tuning.ScaleChoices;

        Assert.Equal("knn", model.Tuning.ItemModel);
        Assert.NotNull(choices);
        Assert.Contains("EASE does not fit 4 items and 4 users (EaseMaxItems 1)", choices);
        // Items 1 and 2 have three users each.
        Assert.Contains("item-kNN scores items with more than 2 users (up to 2 items here)", choices);
        Assert.Contains("users of items with more than 2 users (up to 2 items here)", choices);
    }

    [Fact]
    public void Inactive_items_are_never_neighbors_or_popular()
    {
        var data = Small();
        var items = data.Items.Select(i => i.Id == 2 ? i with { Active = false } : i).ToArray();
        var model = GlobalModelBuilder.Build(new Dataset(items, data.Users, data.Interactions), Plain(), s_now);
        Assert.DoesNotContain(2L, model.Popularity.Lists[new Demographics()].Ids);
        Assert.DoesNotContain(2L, model.ItemNeighbors.Collaborative[1].Ids);
        Assert.DoesNotContain(2L, model.ItemNeighbors.Content[1].Ids);
        Assert.DoesNotContain(2L, model.UserNeighbors.Items(1).Ids);
    }
}
