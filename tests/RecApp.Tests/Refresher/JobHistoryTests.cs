using RecApp.Data;
using RecApp.Data.Source;
using RecApp.Engine;
using RecApp.Engine.Model;
using RecApp.Engine.Training;
using RecApp.Engine.Embeddings;
using RecApp.Data.Models;
using RecApp.Api.Model;
using RecApp.Refresher.Jobs;
using RecApp.Tests.Infrastructure;
using StackExchange.Redis;
using static RecApp.Tests.Refresher.RefresherHost;

namespace RecApp.Tests.Refresher;

public sealed class JobHistoryTests
{
    [Fact]
    public async Task Succeeded_and_failed_runs_are_recorded_and_a_new_version_is_announced_on_Redis()
    {
        var database = await CreateDatabaseAsync();
        await ExecuteAsync(database, "INSERT INTO job_runs (job, host, status) VALUES ('similarities', 'crashed-host', 'running')");
        var version = Random.Shared.NextInt64(1_000_000, long.MaxValue);
        var announced = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var redis = RecApp.Tests.Refresher.RedisSubscription.Connect((await TestServers.Redis).ConnectionString);
        var prefix = $"jobhistory-{Guid.NewGuid():N}:"; // this test's own channel on the shared Redis
        await redis.GetSubscriber().SubscribeAsync(RedisChannel.Literal(new RedisNames(prefix).ModelPublished), (_, message) =>
        {
            if ((long)message == version)
            {
                announced.TrySetResult(version);
            }
        });

        var failing = new FailingJob("profiles");
        var popular = new CountingJob("popular", rows: 1234, version: () => version);
        await using var refresher = await StartAsync(
            database, "history-host", [failing, popular], new Dictionary<string, string> { ["Caching:KeyPrefix"] = prefix });
        await WaitUntilAsync(() => popular.Runs == 1 && failing.Runs == 1, "both start-up runs");

        Assert.Equal(version, await announced.Task.WaitAsync(TimeSpan.FromSeconds(10)));
        await WaitUntilAsync(
            async () => await ScalarAsync<long>(database, "SELECT count(*) FROM job_runs WHERE status = 'running'") == 0,
            "every run to be finished in job_runs");

        Assert.Equal("succeeded|history-host|1234|" + version, await ScalarAsync<string>(database,
            "SELECT concat_ws('|', status, host, row_count, model_version) FROM job_runs WHERE job = 'popular'"));
        Assert.True(await ScalarAsync<bool>(database,
            "SELECT finished_at >= started_at AND duration_ms >= 0 FROM job_runs WHERE job = 'popular'"));
        Assert.Equal("failed|InvalidOperationException: the model could not be built", await ScalarAsync<string>(database,
            "SELECT status || '|' || error FROM job_runs WHERE job = 'profiles'"));
        // A run a dead leader left 'running' is closed by the new leader.
        Assert.StartsWith("failed|abandoned", await ScalarAsync<string>(database,
            "SELECT status || '|' || error FROM job_runs WHERE host = 'crashed-host'"));
    }

    [Fact]
    public async Task A_new_leader_fails_the_builds_and_closes_the_runs_a_dead_leader_left_at_once()
    {
        var database = await CreateDatabaseAsync();
        // What a leader killed mid-build leaves: a version still 'building' (just now, so the 6 h stale-build
        // cleanup would not touch it) and its run still 'running'; plus a published version that must stay as it is.
        await ExecuteAsync(database, """
            INSERT INTO model_versions (part, status, completed_at) VALUES ('popularity', 'ready', now());
            INSERT INTO model_current (part, version) SELECT 'popularity', max(version) FROM model_versions;
            INSERT INTO model_versions (part) VALUES ('item_neighbors');
            INSERT INTO job_runs (job, host, status) VALUES ('similarities', 'killed-host', 'running');
            """);
        var popular = new CountingJob("popular");

        await using var refresher = await StartAsync(database, "new-leader", [popular]);
        await WaitUntilAsync(() => popular.Runs >= 1, "the new leader's first run");

        Assert.Equal("failed|abandoned", await ScalarAsync<string>(database,
            "SELECT status || '|' || split_part(details->>'error', ':', 1) FROM model_versions WHERE part = 'item_neighbors'"));
        Assert.Equal("ready", await ScalarAsync<string>(database, "SELECT status FROM model_versions WHERE part = 'popularity'"));
        Assert.StartsWith("failed|abandoned", await ScalarAsync<string>(database,
            "SELECT status || '|' || error FROM job_runs WHERE host = 'killed-host'"));
    }

    [Fact]
    public async Task A_job_publishing_while_Redis_is_down_still_succeeds()
    {
        var database = await CreateDatabaseAsync();
        var popular = new CountingJob("popular", rows: 5, version: () => 42);
        await using var refresher = await StartAsync(database, "no-redis", [popular], new Dictionary<string, string>
        {
            ["ConnectionStrings:redis"] = $"127.0.0.1:{LocalProcess.FreeTcpPort()},connectTimeout=200",
        });

        await WaitUntilAsync(() => popular.Runs == 1, "the start-up run");
        await RequestRefreshAsync(database, "popular");
        await WaitUntilAsync(() => popular.Runs == 2, "a second run after the failed announcement");

        await WaitUntilAsync(
            async () => await ScalarAsync<long>(database, "SELECT count(*) FROM job_runs WHERE status = 'succeeded'") == 2,
            "both runs recorded as succeeded");
    }

    [Fact]
    public async Task Stopping_mid_job_cancels_it_and_records_the_run_as_cancelled()
    {
        var database = await CreateDatabaseAsync();
        var blocking = new BlockingJob("similarities");
        var refresher = await StartAsync(database, "stopping-host", [blocking]);
        await blocking.Started.WaitAsync(TimeSpan.FromSeconds(20));

        await refresher.DisposeAsync();

        Assert.Equal("cancelled|stopping-host", await ScalarAsync<string>(database,
            "SELECT status || '|' || host FROM job_runs WHERE job = 'similarities'"));
        Assert.True(await ScalarAsync<bool>(database, "SELECT finished_at IS NOT NULL FROM job_runs WHERE job = 'similarities'"));
    }
}

internal static class RedisSubscription
{
    public static ConnectionMultiplexer Connect(string connectionString) =>
        ConnectionMultiplexer.Connect(connectionString);
}
