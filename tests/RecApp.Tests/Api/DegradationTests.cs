using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using RecApp.Engine.Model;
using RecApp.Engine.Embeddings;
using RecApp.Data;
using RecApp.Data.Models;
using RecApp.Api.Model;
using RecApp.Refresher.Jobs;
using RecApp.Engine.Domain;
using RecApp.Engine.Scoring;
using RecApp.Api.Recommendations;
using RecApp.Tests.Infrastructure;

namespace RecApp.Tests.Api;

/// <summary>Outages that used to stall or mislead: a hung database, a Redis outage across replicas, no model.</summary>
public sealed class DegradationTests(ApiWorld world) : IClassFixture<ApiWorld>
{
    [Fact]
    public async Task A_hung_database_opens_the_breaker_so_misses_answer_the_fallback_at_once_then_recover()
    {
        await using var postgres = await PostgresServer.StartPrivateAsync();
        var connectionString = await ApiWorld.CreateOnAsync(postgres, "hung");
        await using var api = world.CreateApi(postgres: connectionString, settings: new Dictionary<string, string?>
        {
            ["Caching:KeyPrefix"] = world.KeyPrefix + "hung:",
            ["DatabaseBreaker:ReadTimeout"] = "00:00:00.500",
            ["DatabaseBreaker:MinimumThroughput"] = "2",
            ["DatabaseBreaker:BreakDuration"] = "00:00:02",
            ["Api:WarmUsers"] = "0", // every list below is a miss
        });
        using var client = api.CreateClient();
        Assert.Equal("collaborative", (await (await client.GetAsync("/users/3/recommendations")).JsonAsync()).GetProperty("algorithm_used").GetString());

        postgres.Freeze();
        try
        {
            var elapsed = new List<TimeSpan>();
            for (var user = 4; user < 14; user++)
            {
                var started = Stopwatch.GetTimestamp();
                var response = await client.GetAsync($"/users/{user}/recommendations");
                elapsed.Add(Stopwatch.GetElapsedTime(started));
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.Equal("popular", (await response.JsonAsync()).GetProperty("algorithm_used").GetString());
            }
            Console.WriteLine("Misses against a hung database: " + string.Join(", ", elapsed.Select(e => $"{e.TotalMilliseconds:F0} ms")));
            // Once open, the breaker answers without touching the database: far below the read timeout.
            Assert.All(elapsed.Skip(4), e => Assert.True(e < TimeSpan.FromMilliseconds(400), $"a miss waited {e} with the breaker open"));
        }
        finally
        {
            postgres.Thaw();
        }

        // After the break a miss probes the database again, and real lists come back. The fallback was never cached
        // under the user, so asking for the same user again is a miss each time.
        await LocalProcess.WaitUntilAsync(async () =>
            (await (await client.GetAsync("/users/20/recommendations")).JsonAsync()).GetProperty("algorithm_used").GetString() != "popular",
            TimeSpan.FromSeconds(30), "personalized lists to come back after the database thawed");
    }

    /// <summary>
    /// Issue 9's served-vs-evaluated check once lost a heavy user to the popular fallback on a loaded machine: the
    /// breaker's read timeout bounded the whole engine call, scoring included. Only the history read is bounded now.
    /// </summary>
    [Fact]
    public async Task A_slow_engine_is_not_a_database_outage()
    {
        await using var api = world.CreateApi(settings: new Dictionary<string, string?>
        {
            ["Caching:KeyPrefix"] = world.KeyPrefix + "slow:",
            ["DatabaseBreaker:ReadTimeout"] = "00:00:00.100",
            ["DatabaseBreaker:MinimumThroughput"] = "2",
            ["Api:WarmUsers"] = "0", // every list below is a miss
        });
        await using var slow = api.WithWebHostBuilder(builder => builder.ConfigureTestServices(services =>
            services.AddSingleton<IRecommender>(provider => new SlowScoring(ActivatorUtilities.CreateInstance<Recommender>(provider)))));
        using var client = slow.CreateClient();

        for (var user = 3; user < 6; user++)
        {
            var answer = await (await client.GetAsync($"/users/{user}/recommendations")).JsonAsync();
            Assert.Equal("collaborative", answer.GetProperty("algorithm_used").GetString());
            Assert.False(answer.GetProperty("cache_hit").GetBoolean());
        }
    }

    /// <summary>The engine with scoring that takes longer than the breaker's read timeout (a heavy user on a busy machine).</summary>
    private sealed class SlowScoring(Recommender engine) : IRecommender
    {
        private static readonly TimeSpan s_scoring = TimeSpan.FromMilliseconds(300);


        public async Task<RankedList> ForUserAsync(ModelSnapshot snapshot, long userId, RecommendationFilters filters, CancellationToken cancellationToken)
        {
            var list = await engine.ForUserAsync(snapshot, userId, filters, cancellationToken);
            await Task.Delay(s_scoring, cancellationToken); // stands in for CPU time after the read
            return list;
        }


        public Task<RankedList> PopularAsync(ModelSnapshot snapshot, Demographics demographics, RecommendationFilters filters, CancellationToken cancellationToken) =>
            engine.PopularAsync(snapshot, demographics, filters, cancellationToken);


        public Task<RankedList?> SimilarAsync(ModelSnapshot snapshot, long itemId, CancellationToken cancellationToken) =>
            engine.SimilarAsync(snapshot, itemId, cancellationToken);

        public Task<IReadOnlyDictionary<long, SourceContribution[]>> ExplainSourcesAsync(ModelSnapshot snapshot, long userId, CancellationToken cancellationToken) =>
            engine.ExplainSourcesAsync(snapshot, userId, cancellationToken);
    }

    [Fact]
    public async Task With_Redis_down_an_interaction_on_one_replica_changes_the_users_answer_on_the_other()
    {
        await using var redis = await RedisServer.StartPrivateAsync();
        var settings = new Dictionary<string, string?> { ["Caching:OutageEvictionPollInterval"] = "00:00:00.200" };
        await using var a = world.CreateApi(redis: redis.ConnectionString, settings: settings);
        await using var b = world.CreateApi(redis: redis.ConnectionString, settings: settings);
        using var clientA = a.CreateClient();
        using var clientB = b.CreateClient();
        const string list = "/users/31/recommendations?limit=5";
        await clientA.GetAsync(list);
        var before = await (await clientB.GetAsync(list)).JsonAsync();
        Assert.True((await (await clientB.GetAsync(list)).JsonAsync()).GetProperty("cache_hit").GetBoolean());

        redis.Stop();
        var item = before.Items()[0];
        var posted = await clientA.PostJsonAsync("/interactions", $$"""{"user_id": 31, "item_id": {{item}}, "type": "purchase"}""");
        Assert.Equal(HttpStatusCode.Accepted, posted.StatusCode);

        var started = Stopwatch.GetTimestamp();
        await LocalProcess.WaitUntilAsync(async () =>
        {
            var answer = await (await clientB.GetAsync(list)).JsonAsync();
            return !answer.GetProperty("cache_hit").GetBoolean() && !answer.Items().Contains(item);
        }, TimeSpan.FromSeconds(15), "replica B to recompute user 31's list without Redis");
        Console.WriteLine($"Eviction reached replica B without Redis in {Stopwatch.GetElapsedTime(started).TotalMilliseconds:F0} ms.");
    }

    /// <summary>
    /// The cause of an intermittent failure of the test above: an instance notices a Redis outage some time after it
    /// begins, and a row written in between was counted as seen while Redis looked up, so the outage poll never
    /// evicted its user. Here the row is written behind the API (no backplane message at all) and the instance is
    /// let to count it before Redis goes; it must still evict the user once it notices.
    /// </summary>
    [Fact]
    public async Task An_interaction_counted_before_the_instance_noticed_the_outage_is_still_evicted()
    {
        await using var redis = await RedisServer.StartPrivateAsync();
        await using var api = world.CreateApi(redis: redis.ConnectionString,
            settings: new Dictionary<string, string?> { ["Caching:OutageEvictionPollInterval"] = "00:00:00.100" });
        using var client = api.CreateClient();
        const string list = "/users/32/recommendations?limit=5";
        var item = (await (await client.GetAsync(list)).JsonAsync()).Items()[0];
        Assert.True((await (await client.GetAsync(list)).JsonAsync()).GetProperty("cache_hit").GetBoolean());

        await using var dataSource = Npgsql.NpgsqlDataSource.Create(world.ConnectionString);
        await using var insert = dataSource.CreateCommand(
            $"INSERT INTO interactions (user_id, item_id, type, occurred_at) VALUES (32, {item}, 5, now()) RETURNING id");
        var id = (long)(await insert.ExecuteScalarAsync())!;
        var eviction = api.Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>().OfType<RecApp.Api.Interactions.OutageUserEviction>().Single();
        await LocalProcess.WaitUntilAsync(() => Task.FromResult(eviction.AccountedThrough >= id), TimeSpan.FromSeconds(10),
            "the instance to count the new row while Redis is up");
        Assert.True((await (await client.GetAsync(list)).JsonAsync()).GetProperty("cache_hit").GetBoolean());

        redis.Stop();
        await LocalProcess.WaitUntilAsync(async () =>
        {
            var answer = await (await client.GetAsync(list)).JsonAsync();
            return !answer.GetProperty("cache_hit").GetBoolean() && !answer.Items().Contains(item);
        }, TimeSpan.FromSeconds(10), "the instance to recompute user 32's list once it noticed the outage");
    }

    [Fact]
    public async Task A_replica_without_a_model_is_alive_but_not_ready()
    {
        var unreachable = $"Host=127.0.0.1;Port={LocalProcess.FreeTcpPort()};Username=recapp;Database=recdb;Timeout=1";
        await using var api = world.CreateApi(postgres: unreachable, settings: new Dictionary<string, string?>
        {
            ["Recommendations:Store:SnapshotStartupWait"] = "00:00:00.100",
        });
        using var client = api.CreateClient();

        var health = await client.GetAsync("/health");
        var alive = await client.GetAsync("/alive");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
        var report = await health.JsonAsync();
        Assert.Equal("Unhealthy", report.GetProperty("status").GetString());
        Assert.Equal("Unhealthy", report.GetProperty("entries").GetProperty("model").GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.OK, alive.StatusCode);
    }
}
