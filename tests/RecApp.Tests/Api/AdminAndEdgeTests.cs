using System.Net;
using Npgsql;
using RecApp.Tests.Infrastructure;

namespace RecApp.Tests.Api;

/// <summary>Admin endpoints, the rate limiter and the API documents.</summary>
public sealed class AdminAndEdgeTests(ApiWorld world) : IClassFixture<ApiWorld>
{
    [Fact]
    public async Task Admin_needs_the_right_key_and_is_refused_when_none_is_configured()
    {
        await using var unconfigured = world.CreateApi(new Dictionary<string, string?> { ["Admin:ApiKey"] = "" });
        using var open = unconfigured.CreateClient();
        using var client = world.Api.CreateClient();

        var noKeyConfigured = await Send(open, HttpMethod.Post, "/admin/cache/clear", key: "");
        var missing = await Send(client, HttpMethod.Post, "/admin/cache/clear", key: null);
        var wrong = await Send(client, HttpMethod.Post, "/admin/cache/clear", key: "test-admin-kez");
        var right = await Send(client, HttpMethod.Post, "/admin/cache/clear", key: ApiWorld.AdminKey);

        Assert.Equal(HttpStatusCode.Forbidden, noKeyConfigured.StatusCode);
        Assert.Equal("application/problem+json", noKeyConfigured.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal(HttpStatusCode.OK, right.StatusCode);
    }

    [Fact]
    public async Task Refresh_queues_a_request_row_and_notifies_the_refresher()
    {
        using var client = world.Api.CreateClient();
        await using var dataSource = NpgsqlDataSource.Create(world.ConnectionString);
        await using var listener = await dataSource.OpenConnectionAsync();
        var notified = new TaskCompletionSource<string>();
        listener.Notification += (_, e) => notified.TrySetResult(e.Payload);
        await using (var listen = new NpgsqlCommand("LISTEN recapp_refresh", listener))
        {
            await listen.ExecuteNonQueryAsync();
        }

        var one = await Send(client, HttpMethod.Post, "/admin/refresh/popular", ApiWorld.AdminKey);
        await listener.WaitAsync(TimeSpan.FromSeconds(5));
        var all = await Send(client, HttpMethod.Post, "/admin/refresh/all", ApiWorld.AdminKey);
        var unknown = await Send(client, HttpMethod.Post, "/admin/refresh/everything", ApiWorld.AdminKey);

        Assert.Equal(HttpStatusCode.Accepted, one.StatusCode);
        Assert.Equal("popular", await notified.Task.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal(4, (await all.JsonAsync()).GetProperty("requests").GetArrayLength());
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        await using var count = dataSource.CreateCommand("SELECT count(*) FROM refresh_requests WHERE handled_at IS NULL");
        Assert.Equal(5L, await count.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Invalidating_a_user_evicts_their_lists_and_cache_stats_answer()
    {
        using var client = world.Api.CreateClient();
        const string path = "/users/17/recommendations?limit=3";
        await client.GetAsync(path);
        Assert.True((await (await client.GetAsync(path)).JsonAsync()).GetProperty("cache_hit").GetBoolean());

        using var invalidate = new HttpRequestMessage(HttpMethod.Post, "/admin/cache/invalidate")
        {
            Content = new StringContent("""{"user_id": 17}""", System.Text.Encoding.UTF8, "application/json"),
        };
        invalidate.Headers.Add("X-Admin-Key", ApiWorld.AdminKey);
        var response = await client.SendAsync(invalidate);
        var empty = await Send(client, HttpMethod.Post, "/admin/cache/invalidate", ApiWorld.AdminKey, "{}");
        var afterInvalidation = await client.GetAsync(path);
        var stats = await Send(client, HttpMethod.Get, "/admin/cache/stats", ApiWorld.AdminKey);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False((await afterInvalidation.JsonAsync()).GetProperty("cache_hit").GetBoolean());
        Assert.Equal(HttpStatusCode.BadRequest, empty.StatusCode);
        // This test's own two misses (before and after the invalidation), whatever the other tests of the class did.
        Assert.True((await stats.JsonAsync()).GetProperty("personalized").GetProperty("misses").GetInt64() >= 2);
    }

    [Fact]
    public async Task Clearing_the_cache_makes_the_next_read_a_miss()
    {
        using var client = world.Api.CreateClient();
        await client.GetAsync("/items/30/similar");
        Assert.True((await (await client.GetAsync("/items/30/similar")).JsonAsync()).GetProperty("cache_hit").GetBoolean());

        await Send(client, HttpMethod.Post, "/admin/cache/clear", ApiWorld.AdminKey);

        Assert.False((await (await client.GetAsync("/items/30/similar")).JsonAsync()).GetProperty("cache_hit").GetBoolean());
    }

    [Fact]
    public async Task The_rate_limiter_answers_429_with_retry_after_per_client()
    {
        // One token an hour: nothing refills while the test runs, however slow the machine.
        await using var api = world.CreateApi(new Dictionary<string, string?>
        {
            ["RateLimiting:Enabled"] = "true",
            ["RateLimiting:PermitsPerSecond"] = "1",
            ["RateLimiting:ReplenishmentPeriod"] = "01:00:00",
            ["RateLimiting:Burst"] = "2",
            ["RateLimiting:ClientKeys:0"] = "partner-key",
            ["RateLimiting:ClientKeyPermitsPerSecond"] = "1",
        });
        using var client = ClientAddress.On(api, "203.0.113.7").CreateClient(); // a public address: limited

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            statuses.Add((await client.GetAsync("/items/1/similar")).StatusCode);
        }
        var limited = await client.GetAsync("/items/1/similar");
        var madeUpKey = await client.SendAsync(WithKey("/items/1/similar", "made-up-key"));
        var knownKey = await client.SendAsync(WithKey("/items/1/similar", "partner-key"));
        var health = await client.GetAsync("/alive");

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], statuses);
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.Equal("application/problem+json", limited.Content.Headers.ContentType?.MediaType);
        var problem = await limited.JsonAsync();
        Assert.Equal(429, problem.GetProperty("status").GetInt32());
        Assert.Equal("https://www.rfc-editor.org/rfc/rfc6585#section-4", problem.GetProperty("type").GetString());
        Assert.True(limited.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.TooManyRequests, madeUpKey.StatusCode); // an unknown key shares its address's bucket
        Assert.Equal(HttpStatusCode.OK, knownKey.StatusCode); // a configured key has its own
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    /// <summary>
    /// A recommendation service is mostly called by a few backend hosts on a private network (or through a proxy there):
    /// with the default settings one busy caller there is never refused, nor is a caller with a configured key.
    /// </summary>
    [Fact]
    public async Task The_default_limits_do_not_refuse_one_busy_backend_caller()
    {
        await using var api = world.CreateApi(new Dictionary<string, string?>
        {
            ["RateLimiting:Enabled"] = "true", // every other limit setting at its default
            ["RateLimiting:ClientKeys:0"] = "shop-backend",
        });
        using var privateCaller = ClientAddress.On(api, "10.20.30.40").CreateClient();
        using var keyedCaller = ClientAddress.On(api, "198.51.100.9").CreateClient();
        keyedCaller.DefaultRequestHeaders.Add("X-Api-Key", "shop-backend");

        // Well past the default per-address burst (2,000) and refill (1,000 per second), eight requests at a time.
        async Task<HttpStatusCode[]> BusyAsync(HttpClient client) => await Task.WhenAll(Enumerable.Range(0, 8).Select(async worker =>
        {
            var statuses = new HttpStatusCode[500];
            for (var i = 0; i < statuses.Length; i++)
            {
                statuses[i] = (await client.GetAsync($"/items/{1 + (worker + i) % 20}/similar?limit=5")).StatusCode;
            }
            return statuses;
        })).ContinueWith(t => t.Result.SelectMany(s => s).ToArray());

        var started = System.Diagnostics.Stopwatch.StartNew();
        var fromPrivate = await BusyAsync(privateCaller);
        var fromKeyed = await BusyAsync(keyedCaller);
        var rate = (fromPrivate.Length + fromKeyed.Length) / started.Elapsed.TotalSeconds;

        Assert.All(fromPrivate, status => Assert.Equal(HttpStatusCode.OK, status));
        Assert.All(fromKeyed, status => Assert.Equal(HttpStatusCode.OK, status));
        Console.WriteLine($"8,000 requests from one private caller and one keyed caller at {rate:F0} requests/s, none refused.");
    }

    [Fact]
    public async Task Failed_admin_authentications_are_limited_per_address_and_never_lock_out_the_right_key()
    {
        var logs = new LogCapture();
        await using var limited = world.CreateApi(new Dictionary<string, string?>
        {
            ["RateLimiting:Enabled"] = "true",
            ["RateLimiting:AdminPermits"] = "1",
            ["RateLimiting:AdminReplenishmentPeriod"] = "01:00:00", // nothing refills while the test runs
            ["RateLimiting:AdminBurst"] = "20",
        });
        var api = logs.On(ClientAddress.On(limited, "203.0.113.8"));
        using var client = api.CreateClient();

        var failures = new List<HttpStatusCode>();
        for (var i = 0; i < 10; i++)
        {
            failures.Add((await Send(client, HttpMethod.Post, "/admin/cache/clear", key: null)).StatusCode);
            failures.Add((await Send(client, HttpMethod.Post, "/admin/cache/clear", key: "guess-" + i)).StatusCode);
        }
        var wrongAfter = await Send(client, HttpMethod.Post, "/admin/cache/clear", key: "guess-20");
        var keylessAfter = await Send(client, HttpMethod.Get, "/admin/console/jobs", key: null);
        var right = new List<HttpStatusCode>();
        for (var i = 0; i < 30; i++)
        {
            right.Add((await Send(client, HttpMethod.Get, "/admin/cache/stats", ApiWorld.AdminKey)).StatusCode);
        }
        var rightWithBadBody = await Send(client, HttpMethod.Post, "/admin/experiments", ApiWorld.AdminKey,
            """{"name": "x", "surface": "bogus", "variants": []}""");

        Assert.All(failures, status => Assert.Equal(HttpStatusCode.Unauthorized, status)); // keyless ones count too
        Assert.Equal(HttpStatusCode.TooManyRequests, wrongAfter.StatusCode);
        Assert.True(wrongAfter.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
        Assert.Equal("application/problem+json", wrongAfter.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.TooManyRequests, keylessAfter.StatusCode);
        Assert.All(right, status => Assert.Equal(HttpStatusCode.OK, status)); // the same address, the right key
        Assert.Equal(HttpStatusCode.BadRequest, rightWithBadBody.StatusCode); // authenticated: now it is validated

        await api.DisposeAsync(); // the last window's count is logged on shutdown
        var line = Assert.Single(logs.Lines, l => l.Message.Contains("admin requests without a valid key"));
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Warning, line.Level);
        Assert.StartsWith("22 admin requests", line.Message);
        Assert.Contains("2 of them refused with 429", line.Message);
    }

    [Theory]
    [InlineData("POST", "/admin/experiments", """{"name": "x", "surface": "bogus", "variants": []}""")]
    [InlineData("POST", "/admin/cache/invalidate", """{"user_id": -1}""")]
    [InlineData("GET", "/admin/console/users/0", null)]
    [InlineData("GET", "/admin/console/items/abc", null)]
    [InlineData("POST", "/admin/refresh/everything", null)]
    public async Task Admin_routes_authenticate_before_they_bind_or_validate(string method, string path, string? body)
    {
        using var client = world.Api.CreateClient();

        var keyless = await Send(client, new HttpMethod(method), path, key: null, body);
        var wrong = await Send(client, new HttpMethod(method), path, key: "wrong", body);
        var right = await Send(client, new HttpMethod(method), path, ApiWorld.AdminKey, body);

        Assert.Equal(HttpStatusCode.Unauthorized, keyless.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal("application/problem+json", keyless.Content.Headers.ContentType?.MediaType);
        Assert.DoesNotContain("errors", await keyless.Content.ReadAsStringAsync()); // nothing about the body leaks
        Assert.Equal(HttpStatusCode.BadRequest, right.StatusCode);
    }

    private static HttpRequestMessage WithKey(string path, string key)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("X-Api-Key", key);
        return request;
    }

    [Fact]
    public async Task The_openapi_document_lists_every_endpoint_and_swagger_ui_serves_it()
    {
        using var client = world.Api.CreateClient();

        var document = await (await client.GetAsync("/openapi/v1.json")).JsonAsync();
        var ui = await client.GetAsync("/swagger/index.html");

        var paths = document.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToHashSet();
        Assert.Superset(new HashSet<string>
        {
            "/popular", "/personalized", "/personalized/batch", "/users/{user_id}/recommendations", "/items/{item_id}/similar",
            "/interactions", "/feedback", "/items/{id}", "/users/{id}", "/stats", "/admin/refresh/{job}", "/admin/cache/clear",
            "/admin/cache/invalidate", "/admin/cache/stats",
        }, paths);
        Assert.Equal(HttpStatusCode.OK, ui.StatusCode);
        Assert.Contains("swagger", await ui.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task The_openapi_document_has_the_admin_key_scheme_the_health_endpoints_and_plain_numbers()
    {
        using var client = world.Api.CreateClient();

        var document = await (await client.GetAsync("/openapi/v1.json")).JsonAsync();

        var scheme = document.GetProperty("components").GetProperty("securitySchemes").GetProperty("AdminKey");
        Assert.Equal("apiKey", scheme.GetProperty("type").GetString());
        Assert.Equal("header", scheme.GetProperty("in").GetString());
        Assert.Equal("X-Admin-Key", scheme.GetProperty("name").GetString());
        var paths = document.GetProperty("paths");
        var clear = paths.GetProperty("/admin/cache/clear").GetProperty("post");
        Assert.True(clear.GetProperty("security")[0].TryGetProperty("AdminKey", out _));
        Assert.False(paths.GetProperty("/popular").GetProperty("post").TryGetProperty("security", out _));
        Assert.True(paths.TryGetProperty("/health", out _));
        Assert.True(paths.TryGetProperty("/alive", out _));
        var schemas = document.GetProperty("components").GetProperty("schemas");
        // POST /interactions takes one event or an array of them (read by a converter, described by hand).
        var batch = schemas.GetProperty("InteractionBatch").GetProperty("oneOf");
        Assert.Equal(2, batch.GetArrayLength());
        Assert.Contains("#/components/schemas/InteractionEvent", batch.ToString());
        Assert.Contains("user_id", schemas.GetProperty("InteractionEvent").GetProperty("required").ToString());
        var userId = schemas.GetProperty("PersonalizedRequest").GetProperty("properties").GetProperty("user_id");
        Assert.Contains("integer", userId.GetProperty("type").ToString());
        Assert.DoesNotContain("string", userId.GetProperty("type").ToString());
        Assert.DoesNotContain("string", schemas.GetProperty("Pagination").ToString());
    }

    private static Task<HttpResponseMessage> Send(HttpClient client, HttpMethod method, string path, string? key, string? body = null)
    {
        var request = new HttpRequestMessage(method, path);
        if (key is not null)
        {
            request.Headers.Add("X-Admin-Key", key);
        }
        if (body is not null)
        {
            request.Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
        }
        return client.SendAsync(request);
    }
}
