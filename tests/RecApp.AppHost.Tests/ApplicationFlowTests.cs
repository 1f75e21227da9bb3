using System.Net;
using Aspire.Hosting.Testing;

namespace RecApp.AppHost.Tests;

/// <summary>A real flow through the application the AppHost starts: the proxy, both API replicas, the Refresher.</summary>
[Collection(RunningApplicationCollection.Name)]
public sealed class ApplicationFlowTests(RunningApplication application)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Health_through_the_proxy_is_Healthy_with_recdb_and_redis()
    {
        using var client = application.App.CreateHttpClient(RunningApplication.Api);

        using var response = await client.GetAsync("/health");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = await ApiJson.ReadAsync(response);
        Assert.Equal("Healthy", body.RootElement.GetProperty("status").GetString());
        var entries = body.RootElement.GetProperty("entries");
        Assert.Equal("Healthy", entries.GetProperty("recdb").GetProperty("status").GetString());
        Assert.Equal("Healthy", entries.GetProperty("redis").GetProperty("status").GetString());
    }

    [Fact]
    public async Task Popular_and_personalized_answer_items_from_the_demo_data()
    {
        using var client = application.App.CreateHttpClient(RunningApplication.Api);

        var popular = await ApiJson.PostAsync(client, "/popular", """{"pagination": {"page": 1, "limit": 5}}""");
        var personalized = await ApiJson.PostAsync(client, "/personalized", """{"user_id": 1, "pagination": {"page": 1, "limit": 5}}""");

        Assert.Equal(5, popular.Items.Length);
        Assert.Equal("popular", popular.Algorithm);
        Assert.Equal(5, personalized.Items.Length);
        Assert.True(personalized.ModelVersion > 0, "answers come from a model the Refresher built");
    }

    [Fact]
    public async Task An_interaction_changes_that_users_next_answer_on_both_replicas()
    {
        Assert.Equal(RunningApplication.ApiReplicaCount, application.ApiReplicas.Distinct().Count());
        using var first = application.ClientFor(application.ApiReplicas[0]);
        using var second = application.ClientFor(application.ApiReplicas[1]);
        var userId = 5_000_000 + Random.Shared.Next(1_000_000); // no history: the popular tier
        foreach (var replica in new[] { first, second })
        {
            Assert.Equal("popular", (await ApiJson.RecommendationsAsync(replica, userId)).Algorithm);
            Assert.True((await ApiJson.RecommendationsAsync(replica, userId)).CacheHit, "each replica holds the list in its cache");
        }
        var item = (await ApiJson.RecommendationsAsync(first, userId)).Items[0];

        using var recorded = await first.PostAsync("/interactions", ApiJson.Json(new Dictionary<string, object>
        {
            ["user_id"] = userId, ["item_id"] = item, ["type"] = "purchase",
        }));
        Assert.Equal(HttpStatusCode.Accepted, recorded.StatusCode);

        // One interaction moves the user to the content tier and excludes the item, on the replica that recorded it
        // at once and on the other one as soon as the eviction reaches it.
        foreach (var replica in new[] { first, second })
        {
            ApiJson.Answer? answer = null;
            await Poll.UntilAsync(async () => (answer = await ApiJson.RecommendationsAsync(replica, userId)).Algorithm != "popular",
                $"user {userId}'s answer to change on {replica.BaseAddress}", Deadline);
            Assert.Equal("content", answer!.Algorithm);
            Assert.DoesNotContain(item, answer.Items);
        }
    }

    [Fact]
    public async Task A_refresh_asked_through_the_admin_API_is_served_by_every_replica()
    {
        using var proxy = application.App.CreateHttpClient(RunningApplication.Api);
        var before = await ApiJson.StatsAsync(proxy);

        using var request = new HttpRequestMessage(HttpMethod.Post, "/admin/refresh/popular");
        request.Headers.Add("X-Admin-Key", RunningApplication.AdminKey);
        using var accepted = await proxy.SendAsync(request);
        Assert.True(accepted.IsSuccessStatusCode, $"refresh request answered {(int)accepted.StatusCode}");

        foreach (var replica in application.ApiReplicas)
        {
            using var client = application.ClientFor(replica);
            ApiJson.Stats? stats = null;
            // The popularity part published anew (parts are what the database says is current) and this replica
            // serving it (its snapshot's version).
            await Poll.UntilAsync(async () =>
                {
                    stats = await ApiJson.StatsAsync(client);
                    var popularity = stats.PartVersions.GetValueOrDefault("popularity");
                    return popularity > before.PartVersions.GetValueOrDefault("popularity") && stats.ServingVersion >= popularity;
                },
                $"{replica} to serve the Refresher's new popularity version", TimeSpan.FromSeconds(60));
            Assert.True(stats!.ServingVersion > before.ServingVersion, "the serving model version moved");
            var answer = await ApiJson.PostAsync(client, "/popular", """{"pagination": {"page": 1, "limit": 3}}""");
            Assert.True(answer.ModelVersion >= stats.ServingVersion, "answers carry the new version");
        }
    }
}
