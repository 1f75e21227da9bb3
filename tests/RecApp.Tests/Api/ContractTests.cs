using System.Net;
using System.Text.Json;

namespace RecApp.Tests.Api;

/// <summary>The service contract of every recommendation endpoint, on a world with a published model.</summary>
public sealed class RecommendationContractTests(ApiWorld world) : IClassFixture<ApiWorld>
{
    [Fact]
    public async Task Popular_answers_the_seed_shape_with_pagination()
    {
        using var client = world.Api.CreateClient();

        var response = await client.PostJsonAsync("/popular", """
            {"user_params": {"gender": "f", "age": "25-34", "geo_id": 213}, "pagination": {"page": 1, "limit": 5}}
            """);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.JsonAsync();
        Assert.Equal(5, body.Items().Length);
        Assert.Equal("popular", body.GetProperty("algorithm_used").GetString());
        Assert.True(body.GetProperty("model_version").GetInt64() > 0);
        Assert.True(body.GetProperty("computation_time_ms").GetDouble() >= 0);
        var pagination = body.GetProperty("pagination");
        Assert.Equal(1, pagination.GetProperty("page").GetInt32());
        Assert.Equal(5, pagination.GetProperty("limit").GetInt32());
        Assert.True(pagination.GetProperty("total_pages").GetInt32() >= 2);
        Assert.True(pagination.GetProperty("has_next").GetBoolean());
        Assert.False(pagination.GetProperty("has_previous").GetBoolean());
    }

    [Fact]
    public async Task Pages_are_consecutive_slices_of_one_list_and_the_second_read_is_a_cache_hit()
    {
        using var client = world.Api.CreateClient();
        const string request = """{"user_params": {"gender": "m"}, "filters": {"price_from": 0, "price_to": 1000}, "pagination": {"page": PAGE, "limit": 4}}""";

        var first = await (await client.PostJsonAsync("/popular", request.Replace("PAGE", "1"))).JsonAsync();
        var second = await (await client.PostJsonAsync("/popular", request.Replace("PAGE", "2"))).JsonAsync();
        var firstAgain = await (await client.PostJsonAsync("/popular", request.Replace("PAGE", "1"))).JsonAsync();

        Assert.False(first.GetProperty("cache_hit").GetBoolean());
        Assert.True(second.GetProperty("cache_hit").GetBoolean());
        Assert.True(firstAgain.GetProperty("cache_hit").GetBoolean());
        Assert.Equal(first.Items(), firstAgain.Items());
        Assert.Empty(first.Items().Intersect(second.Items()));
        Assert.True(second.GetProperty("pagination").GetProperty("has_previous").GetBoolean());
    }

    [Fact]
    public async Task Filters_hold_for_every_item_served()
    {
        using var client = world.Api.CreateClient();

        var body = await (await client.PostJsonAsync("/personalized", """
            {"user_id": 7, "filters": {"price_from": 200, "price_to": 600, "category": "books"}, "pagination": {"limit": 50}}
            """)).JsonAsync();

        Assert.NotEmpty(body.Items());
        Assert.All(body.Items(), id =>
        {
            Assert.Equal("books", ApiWorld.CategoryOf(id));
            Assert.InRange(ApiWorld.PriceOf(id), 200, 600);
        });
    }

    [Fact]
    public async Task Personalized_excludes_what_the_user_already_has_and_uses_the_collaborative_tier()
    {
        using var client = world.Api.CreateClient();

        var body = await (await client.PostJsonAsync("/personalized", """{"user_id": 5, "geo_id": 213}""")).JsonAsync();

        Assert.Equal("collaborative", body.GetProperty("algorithm_used").GetString());
        Assert.Equal(20, body.GetProperty("pagination").GetProperty("limit").GetInt32()); // DEFAULT_PAGE_SIZE
        var seen = Enumerable.Range(0, 8).Select(k => (long)((5 * 3 + k * 2) % 60 + 1));
        Assert.Empty(body.Items().Intersect(seen));
    }

    [Fact]
    public async Task Get_user_recommendations_is_the_same_list_as_post_personalized()
    {
        using var client = world.Api.CreateClient();

        var viaGet = await (await client.GetAsync("/users/9/recommendations?limit=5&category=toys")).JsonAsync();
        var viaPost = await (await client.PostJsonAsync("/personalized",
            """{"user_id": 9, "filters": {"category": "toys"}, "pagination": {"limit": 5}}""")).JsonAsync();

        Assert.Equal(viaPost.Items(), viaGet.Items());
        Assert.True(viaPost.GetProperty("cache_hit").GetBoolean()); // one cached list serves both forms
    }

    [Fact]
    public async Task Unknown_user_gets_a_cold_start_answer_not_404()
    {
        using var client = world.Api.CreateClient();

        var response = await client.GetAsync("/users/987654/recommendations?limit=3");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.JsonAsync();
        Assert.Equal("popular", body.GetProperty("algorithm_used").GetString());
        Assert.Equal(3, body.Items().Length);
    }

    [Fact]
    public async Task Similar_items_answer_and_unknown_item_is_404()
    {
        using var client = world.Api.CreateClient();

        var similar = await client.GetAsync("/items/10/similar?limit=5");
        var unknown = await client.GetAsync("/items/99999/similar");

        Assert.Equal(HttpStatusCode.OK, similar.StatusCode);
        var body = await similar.JsonAsync();
        Assert.Equal("similar", body.GetProperty("algorithm_used").GetString());
        Assert.NotEmpty(body.Items());
        Assert.DoesNotContain(10L, body.Items());
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("application/problem+json", unknown.Content.Headers.ContentType?.MediaType);
        Assert.True((await unknown.JsonAsync()).GetProperty("errors").TryGetProperty("item_id", out _));
    }

    [Fact]
    public async Task Batch_answers_one_entry_per_user_in_order_and_matches_single_reads()
    {
        using var client = world.Api.CreateClient();
        var single = await (await client.GetAsync("/users/11/recommendations?limit=4")).JsonAsync();

        var response = await client.PostJsonAsync("/personalized/batch", """{"user_ids": [11, 12, 5000], "limit": 4}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var results = (await response.JsonAsync()).GetProperty("results").EnumerateArray().ToArray();
        Assert.Equal([11L, 12L, 5000L], results.Select(r => r.GetProperty("user_id").GetInt64()));
        Assert.True(results[0].GetProperty("cache_hit").GetBoolean());
        Assert.Equal(single.Items(), results[0].Items());
        Assert.Equal("popular", results[2].GetProperty("algorithm_used").GetString());
        Assert.All(results, r => Assert.Equal(4, r.Items().Length));
    }

    [Fact]
    public async Task Stats_counts_hits_and_misses()
    {
        using var client = world.Api.CreateClient();
        var before = (await (await client.GetAsync("/stats")).JsonAsync()).GetProperty("cache").GetProperty("similar");

        await client.GetAsync("/items/21/similar");
        await client.GetAsync("/items/21/similar");

        var stats = await (await client.GetAsync("/stats")).JsonAsync();
        var after = stats.GetProperty("cache").GetProperty("similar");
        Assert.Equal(before.GetProperty("misses").GetInt64() + 1, after.GetProperty("misses").GetInt64());
        Assert.Equal(before.GetProperty("hits").GetInt64() + 1, after.GetProperty("hits").GetInt64());
        Assert.True(stats.GetProperty("cache").GetProperty("tiers").GetProperty("l1_hits").GetInt64() >= 1);
        Assert.Equal(60, stats.GetProperty("data").GetProperty("items").GetInt64());
        Assert.Equal(320, stats.GetProperty("data").GetProperty("interactions").GetInt64());
        // The service contract's figures: every world user has one like and two clicks.
        Assert.Equal(40, stats.GetProperty("data").GetProperty("likes").GetInt64());
        Assert.Equal(80, stats.GetProperty("data").GetProperty("clicks").GetInt64());
        Assert.Equal(900, stats.GetProperty("configuration").GetProperty("cache_ttl_popular").GetInt32());
        Assert.Equal(JsonValueKind.Array, stats.GetProperty("jobs").ValueKind);
        Assert.NotEmpty(stats.GetProperty("model").GetProperty("parts").EnumerateArray());
        // What the build chose on its validation split, with the score, as the API serves it.
        var tuning = stats.GetProperty("model").GetProperty("tuning");
        Assert.Equal(JsonValueKind.String, tuning.GetProperty("data_clock").ValueKind);
        Assert.Equal(JsonValueKind.Number, tuning.GetProperty("validation_ndcg").ValueKind);
    }
}
