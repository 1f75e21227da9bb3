using System.Net;
using System.Text.Json;

namespace RecApp.Tests.Api;

/// <summary>Every client mistake is a 400/404/413 problem naming the field, never a 500.</summary>
public sealed class ValidationTests(ApiWorld world) : IClassFixture<ApiWorld>
{
    public static TheoryData<string, string, string, string> BadRequests => new()
    {
        // method, path, body, field named in the problem
        { "POST", "/popular", "{", "body" },
        { "POST", "/popular", "", "body" },
        { "POST", "/popular", "null", "body" },
        { "POST", "/popular", """{"pagination": {"page": 0}}""", "pagination.page" },
        { "POST", "/popular", """{"pagination": {"limit": 0}}""", "pagination.limit" },
        { "POST", "/popular", """{"pagination": {"limit": 101}}""", "pagination.limit" },
        { "POST", "/popular", """{"pagination": {"limit": "ten"}}""", "pagination.limit" },
        { "POST", "/popular", """{"filters": {"price_from": -1}}""", "filters.price_from" },
        { "POST", "/popular", """{"filters": {"price_from": 10, "price_to": 5}}""", "filters.price_from" },
        { "POST", "/popular", """{"user_params": {"gender": "x"}}""", "user_params.gender" },
        { "POST", "/popular", """{"user_params": {"age": "ancient"}}""", "user_params.age" },
        { "POST", "/popular", """{"user_params": {"geo_id": -3}}""", "user_params.geo_id" },
        { "POST", "/popular", """{"user_params": {"category": ""}}""", "user_params.category" },
        { "POST", "/personalized", "{}", "user_id" },
        { "POST", "/personalized", """{"user_id": 0}""", "user_id" },
        { "POST", "/personalized", """{"user_id": "abc"}""", "user_id" },
        { "POST", "/personalized", """{"user_id": 1.5}""", "user_id" },
        { "POST", "/personalized", """{"user_id": 1, "geo_id": 0}""", "geo_id" },
        { "POST", "/personalized", """{"user_id": 1, "filters": {"price_to": -2}}""", "filters.price_to" },
        { "GET", "/users/abc/recommendations", "", "user_id" },
        { "GET", "/users/-1/recommendations", "", "user_id" },
        { "GET", "/users/1/recommendations?limit=0", "", "limit" },
        { "GET", "/users/1/recommendations?page=x", "", "page" },
        { "GET", "/users/1/recommendations?price_from=cheap", "", "price_from" },
        { "GET", "/users/1/recommendations?price_from=9&price_to=1", "", "price_from" },
        { "GET", "/items/0/similar", "", "item_id" },
        { "GET", "/items/1/similar?limit=1000", "", "limit" },
        { "POST", "/personalized/batch", "{}", "user_ids" },
        { "POST", "/personalized/batch", """{"user_ids": []}""", "user_ids" },
        { "POST", "/personalized/batch", """{"user_ids": [1, -2]}""", "user_ids[1]" },
        { "POST", "/personalized/batch", """{"user_ids": [1], "limit": 0}""", "limit" },
        { "POST", "/interactions", "[]", "body" },
        { "POST", "/interactions", """{"item_id": 1, "type": "view"}""", "user_id" },
        { "POST", "/interactions", """{"user_id": 1, "type": "view"}""", "item_id" },
        { "POST", "/interactions", """{"user_id": 1, "item_id": 1}""", "type" },
        { "POST", "/interactions", """{"user_id": 1, "item_id": 1, "type": "stare"}""", "type" },
        { "POST", "/interactions", """{"user_id": 1, "item_id": 1, "type": "rating"}""", "value" },
        { "POST", "/interactions", """{"user_id": 1, "item_id": 1, "type": "rating", "value": 6}""", "value" },
        { "POST", "/interactions", """{"user_id": 1, "item_id": 1, "type": "view", "value": 3}""", "value" },
        { "POST", "/interactions", """{"user_id": 1, "item_id": 1, "type": "view", "event_id": ""}""", "event_id" },
        { "POST", "/interactions", """{"user_id": 1, "item_id": 1, "type": "view", "occurred_at": "2999-01-01T00:00:00Z"}""", "occurred_at" },
        { "POST", "/interactions", """{"user_id": 1, "item_id": 1, "type": "view", "occurred_at": "yesterday"}""", "occurred_at" },
        { "POST", "/interactions", """[{"user_id": 1, "item_id": 1, "type": "view"}, {"user_id": 1, "item_id": 1, "type": "nope"}]""", "[1].type" },
        { "POST", "/interactions", """{"user_id": 1, "item_id": 424242, "type": "view"}""", "item_id" },
        { "POST", "/interactions", """[{"user_id": 1, "item_id": 2, "type": "view"}, {"user_id": 1, "item_id": 424242, "type": "click"}]""", "[1].item_id" },
        { "POST", "/feedback", """{"user_id": 1, "item_id": 1}""", "rating" },
        { "POST", "/feedback", """{"user_id": 1, "item_id": 1, "rating": 0}""", "rating" },
        { "POST", "/feedback", """{"user_id": 1, "item_id": 1, "rating": 4.5}""", "rating" },
        { "POST", "/feedback", """{"item_id": 1, "rating": 4}""", "user_id" },
        { "PUT", "/items/abc", """{"title": "t", "category": "c", "price": 1}""", "id" },
        { "PUT", "/items/5", """{"category": "c", "price": 1}""", "title" },
        { "PUT", "/items/5", """{"title": "t", "price": 1}""", "category" },
        { "PUT", "/items/5", """{"title": "t", "category": "c"}""", "price" },
        { "PUT", "/items/5", """{"title": "t", "category": "c", "price": -1}""", "price" },
        { "PUT", "/items/5", """{"title": "t", "category": "c", "price": 1, "active": "yes"}""", "active" },
        { "PUT", "/users/5", """{"gender": "q"}""", "gender" },
        { "PUT", "/users/5", """{"age_group": "old"}""", "age_group" },
        { "PUT", "/users/0", """{}""", "id" },
        // PostgreSQL text cannot hold NUL: refused by name rather than failing the statement (22021).
        { "POST", "/interactions", """{"user_id": 1, "item_id": 1, "type": "view", "event_id": "a\u0000b"}""", "event_id" },
        { "PUT", "/items/5", """{"title": "t\u0000", "category": "c", "price": 1}""", "title" },
        { "PUT", "/items/5", """{"title": "t", "category": "c\u0000", "price": 1}""", "category" },
        { "PUT", "/items/5", """{"title": "t", "category": "c", "price": 1, "tags": ["ok", "\u0000"]}""", "tags" },
        { "POST", "/popular", """{"user_params": {"category": "books\u0000"}}""", "user_params.category" },
        { "GET", "/users/1/recommendations?category=books%00", "", "category" },
        { "GET", "/items/zero", "", "id" },
        { "DELETE", "/items/-4", "", "id" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task A_client_mistake_is_a_400_problem_naming_the_field(string method, string path, string body, string field)
    {
        using var client = world.Api.CreateClient();
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method is "POST" or "PUT")
        {
            request.Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
        }

        var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.JsonAsync();
        Assert.Equal(400, problem.GetProperty("status").GetInt32());
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _),
            $"expected an error for '{field}', got {problem.GetProperty("errors")}");
    }

    [Theory]
    [InlineData("[null]", "[0]")]
    [InlineData("""[{"user_id": 1, "item_id": 1, "type": "view"}, null]""", "[1]")]
    [InlineData("[{}, null]", "[1]")]
    [InlineData("""[{"user_id": 1, "item_id": 1, "type": "view"}, {"user_id": "x"}]""", "[1].user_id")]
    [InlineData("[7]", "[0]")]
    public async Task A_null_or_mistyped_event_in_an_array_is_a_400_naming_its_index(string body, string field)
    {
        using var client = world.Api.CreateClient();

        var response = await client.PostJsonAsync("/interactions", body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var errors = (await response.JsonAsync()).GetProperty("errors");
        Assert.True(errors.TryGetProperty(field, out _), $"expected an error for '{field}', got {errors}");
    }

    [Theory]
    [InlineData("""{"user_id": 1, "item_id": 1, "type": "view", "occurred_at": "0001-01-01T00:00:00Z"}""", "occurred_at")]
    [InlineData("""{"user_id": 1, "item_id": 1, "type": "view", "occurred_at": "1999-12-31T23:59:59Z"}""", "occurred_at")]
    [InlineData("""{"user_id": 1, "item_id": 1, "type": "view", "occurred_at": "9999-12-31T23:59:59Z"}""", "occurred_at")]
    [InlineData("""{"user_id": 1, "item_id": 1, "type": "rating", "value": 4.7}""", "value")]
    [InlineData("""{"user_id": 1, "item_id": 1, "type": "rating", "value": 0.5}""", "value")]
    [InlineData("""{"user_id": 1, "item_id": 1, "type": "rating", "value": 5.5}""", "value")]
    public async Task Event_dates_and_ratings_outside_the_accepted_ranges_are_a_400(string body, string field)
    {
        using var client = world.Api.CreateClient();

        var response = await client.PostJsonAsync("/interactions", body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal([field], (await response.JsonAsync()).GetProperty("errors").EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public async Task Event_dates_and_ratings_inside_the_ranges_are_stored()
    {
        using var client = world.Api.CreateClient();
        var soon = DateTimeOffset.UtcNow.AddMinutes(2).ToString("O");

        var response = await client.PostJsonAsync("/interactions", $$"""
            [{"user_id": 3400, "item_id": 1, "type": "rating", "value": 4.5, "occurred_at": "2000-01-01T00:00:00Z"},
             {"user_id": 3400, "item_id": 2, "type": "view", "occurred_at": "{{soon}}"}]
            """);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    [Theory]
    [InlineData("POST", "/interactions", """{"user_id": 1, "item_id": 1, "type": "view"},""")]
    [InlineData("POST", "/personalized", """{"user_id":123}garbage""")]
    [InlineData("PUT", "/users/3300", """{"gender":"f"} {"gender":"m"}""")]
    [InlineData("POST", "/popular", """{} {}""")]
    public async Task Trailing_data_after_the_json_value_is_a_400(string method, string path, string body)
    {
        using var client = world.Api.CreateClient();
        using var request = new HttpRequestMessage(new HttpMethod(method), path)
        {
            Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json"),
        };

        var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await response.JsonAsync()).GetProperty("errors").TryGetProperty("body", out _));
    }

    [Fact]
    public async Task A_bad_feedback_rating_reports_only_rating()
    {
        using var client = world.Api.CreateClient();

        var outOfRange = await (await client.PostJsonAsync("/feedback", """{"user_id": 1, "item_id": 1, "rating": 9}""")).JsonAsync();
        var halfStar = await (await client.PostJsonAsync("/feedback", """{"user_id": 1, "item_id": 1, "rating": 4.5}""")).JsonAsync();

        Assert.Equal(["rating"], outOfRange.GetProperty("errors").EnumerateObject().Select(p => p.Name));
        Assert.Equal(["rating"], halfStar.GetProperty("errors").EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public async Task An_unknown_item_is_a_404_titled_not_found()
    {
        using var client = world.Api.CreateClient();

        var read = await client.GetAsync("/items/424243");
        var similar = await client.GetAsync("/items/424243/similar");

        Assert.Equal(HttpStatusCode.NotFound, read.StatusCode);
        Assert.Equal("Not found.", (await read.JsonAsync()).GetProperty("title").GetString());
        Assert.Equal("Not found.", (await similar.JsonAsync()).GetProperty("title").GetString());
    }

    [Theory]
    [InlineData("/popular")]
    [InlineData("/interactions")]
    [InlineData("/items/1")]
    public async Task A_body_over_one_megabyte_is_413(string path)
    {
        // Kestrel enforces the limit (the in-memory test server does not), so this runs on a real socket.
        await using var api = world.CreateApi();
        api.UseKestrel(0);
        using var client = api.CreateClient();
        var huge = "{\"title\": \"" + new string('x', 1024 * 1024 + 10) + "\"}";

        using var request = new HttpRequestMessage(path == "/items/1" ? HttpMethod.Put : HttpMethod.Post, path)
        {
            Content = new StringContent(huge, System.Text.Encoding.UTF8, "application/json"),
        };
        var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task A_chunked_body_over_one_megabyte_is_413_too()
    {
        await using var api = world.CreateApi();
        api.UseKestrel(0);
        using var client = api.CreateClient();
        var content = new StreamContent(new MemoryStream(new byte[1024 * 1024 + 1]));
        content.Headers.ContentType = new("application/json");

        var response = await client.PostAsync("/popular", content);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Fact]
    public async Task More_than_1000_events_is_413_and_more_than_100_batch_users_is_400()
    {
        using var client = world.Api.CreateClient();
        var events = "[" + string.Join(",", Enumerable.Repeat("""{"user_id":1,"item_id":1,"type":"view"}""", 1001)) + "]";
        var users = JsonSerializer.Serialize(new { user_ids = Enumerable.Range(1, 101) });

        var tooManyEvents = await client.PostJsonAsync("/interactions", events);
        var tooManyUsers = await client.PostJsonAsync("/personalized/batch", users);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooManyEvents.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, tooManyUsers.StatusCode);
        Assert.True((await tooManyUsers.JsonAsync()).GetProperty("errors").TryGetProperty("user_ids", out _));
    }

    [Fact]
    public async Task A_too_large_body_is_a_problem_with_a_type()
    {
        await using var api = world.CreateApi();
        api.UseKestrel(0);
        using var client = api.CreateClient();

        var response = await client.PostJsonAsync("/popular", "[" + new string(' ', 1024 * 1024) + "]");

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("rfc9110", (await response.JsonAsync()).GetProperty("type").GetString());
    }

    [Fact]
    public async Task Unknown_routes_and_methods_are_problems_too()
    {
        using var client = world.Api.CreateClient();

        var wrongMethod = await client.GetAsync("/popular");
        var missing = await client.GetAsync("/nothing-here");

        Assert.Equal(HttpStatusCode.MethodNotAllowed, wrongMethod.StatusCode);
        Assert.Equal("application/problem+json", wrongMethod.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("application/problem+json", missing.Content.Headers.ContentType?.MediaType);
        Assert.False(string.IsNullOrEmpty((await wrongMethod.JsonAsync()).GetProperty("type").GetString()));
        Assert.False(string.IsNullOrEmpty((await missing.JsonAsync()).GetProperty("type").GetString()));
    }
}
