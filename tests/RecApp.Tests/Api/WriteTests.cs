using System.Net;
using Npgsql;

namespace RecApp.Tests.Api;

/// <summary>Interactions, feedback, catalog and users: durable writes and their effect on the next answer.</summary>
public sealed class WriteTests(ApiWorld world) : IClassFixture<ApiWorld>
{
    [Fact]
    public async Task One_event_is_stored_before_202_and_an_unknown_user_is_created()
    {
        using var client = world.Api.CreateClient();

        var response = await client.PostJsonAsync("/interactions", """{"user_id": 3001, "item_id": 4, "type": "like"}""");

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var body = await response.JsonAsync();
        Assert.Equal(1, body.GetProperty("accepted").GetInt32());
        Assert.Equal(0, body.GetProperty("duplicates").GetInt32());
        Assert.Equal(1, await ScalarAsync("SELECT count(*) FROM interactions WHERE user_id = 3001 AND item_id = 4 AND type = 2"));
        Assert.Equal(1, await ScalarAsync("SELECT count(*) FROM users WHERE id = 3001"));
    }

    [Fact]
    public async Task Event_ids_make_retries_idempotent_and_are_counted_as_duplicates()
    {
        using var client = world.Api.CreateClient();
        const string batch = """
            [{"user_id": 3002, "item_id": 1, "type": "view", "event_id": "e-3002-1"},
             {"user_id": 3002, "item_id": 2, "type": "rating", "value": 4, "event_id": "e-3002-2", "occurred_at": "2026-01-02T03:04:05Z"},
             {"user_id": 3002, "item_id": 2, "type": "rating", "value": 4, "event_id": "e-3002-2"},
             {"user_id": 3002, "item_id": 3, "type": "purchase"}]
            """;

        var first = await (await client.PostJsonAsync("/interactions", batch)).JsonAsync();
        var retry = await (await client.PostJsonAsync("/interactions", batch)).JsonAsync();

        Assert.Equal((3, 1), (first.GetProperty("accepted").GetInt32(), first.GetProperty("duplicates").GetInt32()));
        // The event without an event_id cannot be recognized as a retry: it is stored again.
        Assert.Equal((1, 3), (retry.GetProperty("accepted").GetInt32(), retry.GetProperty("duplicates").GetInt32()));
        Assert.Equal(4, await ScalarAsync("SELECT count(*) FROM interactions WHERE user_id = 3002"));
        Assert.Equal(4.0, await ScalarAsync("SELECT value FROM interactions WHERE event_id = 'e-3002-2'"));
    }

    [Fact]
    public async Task A_batch_naming_an_unknown_item_stores_nothing()
    {
        using var client = world.Api.CreateClient();

        var response = await client.PostJsonAsync("/interactions",
            """[{"user_id": 3003, "item_id": 1, "type": "view"}, {"user_id": 3003, "item_id": 777777, "type": "view"}]""");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(0, await ScalarAsync("SELECT count(*) FROM interactions WHERE user_id = 3003"));
    }

    [Fact]
    public async Task A_new_user_moves_popular_to_content_to_collaborative_and_each_event_changes_the_answer()
    {
        using var client = world.Api.CreateClient();
        const string path = "/users/3004/recommendations?limit=10";

        var answers = new List<System.Text.Json.JsonElement> { await (await client.GetAsync(path)).JsonAsync() };
        Assert.True((await (await client.GetAsync(path)).JsonAsync()).GetProperty("cache_hit").GetBoolean());
        foreach (var item in new[] { 5L, 8L, 11L })
        {
            var posted = await client.PostJsonAsync("/interactions", $$"""{"user_id": 3004, "item_id": {{item}}, "type": "purchase"}""");
            Assert.Equal(HttpStatusCode.Accepted, posted.StatusCode);
            answers.Add(await (await client.GetAsync(path)).JsonAsync());
        }

        Assert.Equal(["popular", "content", "content", "collaborative"],
            answers.Select(a => a.GetProperty("algorithm_used").GetString()));
        Assert.All(answers, a => Assert.False(a.GetProperty("cache_hit").GetBoolean()));
        for (var i = 1; i < answers.Count; i++)
        {
            Assert.NotEqual(answers[i - 1].Items(), answers[i].Items());
        }
        Assert.DoesNotContain(11L, answers[^1].Items()); // what the user has is excluded
    }

    [Fact]
    public async Task Feedback_is_stored_as_a_rating()
    {
        using var client = world.Api.CreateClient();

        var response = await client.PostJsonAsync("/feedback", """{"user_id": 3005, "item_id": 9, "rating": 5}""");

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal(1, await ScalarAsync("SELECT count(*) FROM interactions WHERE user_id = 3005 AND item_id = 9 AND type = 6 AND value = 5"));
    }

    [Fact]
    public async Task Items_are_created_read_updated_and_deactivated()
    {
        using var client = world.Api.CreateClient();

        var created = await client.PutJsonAsync("/items/500", """{"title": "Lamp", "category": "home", "tags": ["light"], "price": 19.99, "geo_id": 213}""");
        var updated = await client.PutJsonAsync("/items/500", """{"title": "Lamp 2", "category": "home", "price": 25}""");
        var read = await client.GetAsync("/items/500");
        var deleted = await client.DeleteAsync("/items/500");
        var afterDelete = await (await client.GetAsync("/items/500")).JsonAsync();
        var missing = await client.GetAsync("/items/424242");
        var deleteMissing = await client.DeleteAsync("/items/424242");

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("/items/500", created.Headers.Location?.OriginalString);
        Assert.Equal(HttpStatusCode.OK, updated.StatusCode);
        var item = await read.JsonAsync();
        Assert.Equal("Lamp 2", item.GetProperty("title").GetString());
        Assert.Equal(25m, item.GetProperty("price").GetDecimal());
        Assert.True(item.GetProperty("active").GetBoolean());
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.False(afterDelete.GetProperty("active").GetBoolean());
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, deleteMissing.StatusCode);
    }

    [Fact]
    public async Task Users_are_created_then_replaced()
    {
        using var client = world.Api.CreateClient();

        var created = await client.PutJsonAsync("/users/3006", """{"gender": "F", "age_group": "25-34", "geo_id": 5}""");
        var replaced = await client.PutJsonAsync("/users/3006", """{"gender": "m"}""");

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("f", (await created.JsonAsync()).GetProperty("gender").GetString());
        Assert.Equal(HttpStatusCode.OK, replaced.StatusCode);
        var user = await replaced.JsonAsync();
        Assert.Equal("m", user.GetProperty("gender").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, user.GetProperty("age").ValueKind);
    }

    [Fact]
    public async Task Users_accept_age_as_in_popular_and_age_group_as_its_alias()
    {
        using var client = world.Api.CreateClient();

        var byAge = await client.PutJsonAsync("/users/3020", """{"age": "35-44"}""");
        var byAlias = await client.PutJsonAsync("/users/3021", """{"age_group": "45-54"}""");
        var disagreeing = await client.PutJsonAsync("/users/3022", """{"age": "35-44", "age_group": "45-54"}""");

        // The answer names the field the request takes (age), whichever spelling was sent.
        Assert.Equal("35-44", (await byAge.JsonAsync()).GetProperty("age").GetString());
        Assert.Equal("45-54", (await byAlias.JsonAsync()).GetProperty("age").GetString());
        Assert.False((await byAge.JsonAsync()).TryGetProperty("age_group", out _));
        Assert.Equal(HttpStatusCode.BadRequest, disagreeing.StatusCode);
    }

    [Fact]
    public async Task Concurrent_creates_of_one_item_both_succeed_and_exactly_one_is_the_creation()
    {
        using var client = world.Api.CreateClient();
        for (var id = 600; id < 610; id++)
        {
            var puts = await Task.WhenAll(Enumerable.Range(0, 2).Select(n =>
                client.PutJsonAsync($"/items/{id}", $$"""{"title": "Race {{n}}", "category": "home", "price": 5}""")));

            Assert.All(puts, p => Assert.True(p.IsSuccessStatusCode, $"item {id}: {p.StatusCode}"));
            Assert.Single(puts, p => p.StatusCode == HttpStatusCode.Created);
            // Answers carry the times PostgreSQL stamped; the row keeps the last writer's, the later of the two.
            var answered = new List<DateTime>();
            foreach (var put in puts)
            {
                answered.Add((await put.JsonAsync()).GetProperty("updated_at").GetDateTime().ToUniversalTime());
            }
            Assert.Equal(1, await ScalarAsync(
                $"SELECT count(*) FROM items WHERE id = {id} AND updated_at = '{answered.Max():O}'::timestamptz"));
        }
    }

    [Fact]
    public async Task Creating_a_user_while_their_first_interaction_arrives_never_fails()
    {
        using var client = world.Api.CreateClient();
        for (var id = 3100; id < 3110; id++)
        {
            var put = client.PutJsonAsync($"/users/{id}", """{"gender": "f", "age_group": "25-34"}""");
            var posted = client.PostJsonAsync("/interactions", $$"""{"user_id": {{id}}, "item_id": 3, "type": "view"}""");
            await Task.WhenAll(put, posted);

            Assert.True((await put).IsSuccessStatusCode, $"user {id}: {(await put).StatusCode}");
            Assert.Equal(HttpStatusCode.Accepted, (await posted).StatusCode);
            Assert.Equal(1, await ScalarAsync($"SELECT count(*) FROM users WHERE id = {id} AND gender = 'f'"));
        }
    }

    private async Task<double> ScalarAsync(string sql)
    {
        await using var dataSource = NpgsqlDataSource.Create(world.ConnectionString);
        await using var command = dataSource.CreateCommand(sql);
        return Convert.ToDouble(await command.ExecuteScalarAsync());
    }
}
