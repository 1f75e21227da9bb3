using System.Net;
using Npgsql;
using RecApp.Engine.Model;
using RecApp.Engine.Training;
using RecApp.Engine.Embeddings;
using RecApp.Data;
using RecApp.Data.Models;
using RecApp.Api.Model;
using RecApp.Refresher.Jobs;
using RecApp.Tests.Infrastructure;
using RecApp.Data.Jobs;

namespace RecApp.Tests.Api;

/// <summary>A deployment whose first jobs have not finished: answers say so, and nothing empty is cached.</summary>
public sealed class FirstModelTests : IAsyncLifetime
{
    private readonly DatabaseFixture _database = new();

    public async ValueTask InitializeAsync()
    {
        await _database.InitializeAsync();
        await using var dataSource = NpgsqlDataSource.Create(_database.ConnectionString);
        await ApiWorld.SeedAsync(dataSource); // data, but no model yet
    }

    public ValueTask DisposeAsync() => _database.DisposeAsync();

    [Fact]
    public async Task Before_the_first_model_lists_are_503_or_labelled_popular_and_never_cached_empty()
    {
        await using var api = new ApiFactory(_database.ConnectionString, _database.RedisConnectionString, new Dictionary<string, string?>
        {
            ["Caching:KeyPrefix"] = _database.KeyPrefix,
            ["RateLimiting:Enabled"] = "false",
            ["Api:WarmUsers"] = "0",
            ["Recommendations:Store:SnapshotPollInterval"] = "00:00:00.200",
            ["Logging:LogLevel:Default"] = "Warning",
        });
        using var client = api.CreateClient();
        const string user = "/users/5/recommendations?limit=5"; // user 5 has 8 events: the collaborative tier

        var noModel = await client.GetAsync(user);
        var noModelAgain = await client.GetAsync(user);
        var noModelPost = await client.PostJsonAsync("/personalized", """{"user_id": 5}""");
        var noModelBatch = await client.PostJsonAsync("/personalized/batch", """{"user_ids": [5]}""");
        var noSimilarities = await client.GetAsync("/items/10/similar");

        Assert.All(new[] { noModel, noModelAgain, noModelPost, noModelBatch, noSimilarities }, response =>
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.True(response.Headers.RetryAfter?.Delta > TimeSpan.Zero);
        });

        // Popular lists exist, neighbors not yet: the user gets the popular list, labelled so.
        await ApiWorld.RunJobsAsync(_database.ConnectionString, JobNames.Popular);
        await WaitUntilOkAsync(client, user, "the popular lists to be served");
        var popularOnly = await (await client.GetAsync(user)).JsonAsync();
        var similarStill = await client.GetAsync("/items/10/similar");

        Assert.Equal("popular", popularOnly.GetProperty("algorithm_used").GetString());
        Assert.Equal(5, popularOnly.Items().Length);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, similarStill.StatusCode);

        await ApiWorld.RunJobsAsync(_database.ConnectionString, JobNames.Profiles, JobNames.Similarities);
        await WaitUntilOkAsync(client, "/items/11/similar", "the item neighbors to be served");
        var personalized = await (await client.GetAsync(user)).JsonAsync();
        var similar = await client.GetAsync("/items/10/similar");

        Assert.Equal("collaborative", personalized.GetProperty("algorithm_used").GetString());
        Assert.False(personalized.GetProperty("cache_hit").GetBoolean());
        Assert.NotEmpty(personalized.Items());
        Assert.Equal(HttpStatusCode.OK, similar.StatusCode);
        Assert.NotEmpty((await similar.JsonAsync()).Items());
    }

    private static Task WaitUntilOkAsync(HttpClient client, string path, string what) =>
        LocalProcess.WaitUntilAsync(async () => (await client.GetAsync(path)).StatusCode == HttpStatusCode.OK, TimeSpan.FromSeconds(30), what);
}
