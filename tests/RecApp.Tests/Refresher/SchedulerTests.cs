using static RecApp.Tests.Refresher.RefresherHost;

namespace RecApp.Tests.Refresher;

public sealed class SchedulerTests
{
    [Fact]
    public async Task Every_job_runs_at_start_up_when_no_model_exists_then_each_on_its_own_interval()
    {
        var database = await CreateDatabaseAsync();
        var popular = new CountingJob("popular");
        var cleanup = new CountingJob("cleanup");
        await using var refresher = await StartAsync(database, "solo", [popular, cleanup], new Dictionary<string, string>
        {
            ["Refresher:PopularItemsRefreshInterval"] = "00:00:00.300",
        });

        await WaitUntilAsync(() => popular.Runs >= 3, "popular to run three times");

        Assert.Equal(1, cleanup.Runs); // at start-up only: its interval is 6 h
        var gaps = popular.RunTimes.Zip(popular.RunTimes.Skip(1), (a, b) => b - a).ToArray();
        Assert.All(gaps, gap => Assert.True(gap >= TimeSpan.FromMilliseconds(250), $"popular ran again after only {gap}"));
    }

    [Fact]
    public async Task With_a_model_in_place_only_jobs_whose_interval_has_passed_run()
    {
        var database = await CreateDatabaseAsync();
        // A published model and a recent successful popular run; profiles has never run.
        await ExecuteAsync(database, """
            WITH v AS (INSERT INTO model_versions (part, status, completed_at) VALUES ('popularity', 'ready', now()) RETURNING version)
            INSERT INTO model_current (part, version) SELECT 'popularity', version FROM v;
            INSERT INTO job_runs (job, host, started_at, finished_at, status) VALUES ('popular', 'earlier', now(), now(), 'succeeded');
            """);
        var popular = new CountingJob("popular");
        var profiles = new CountingJob("profiles");
        await using var refresher = await StartAsync(database, "solo", [popular, profiles]);

        await WaitUntilAsync(() => profiles.Runs == 1, "profiles, never run, to run at start-up");
        // A request goes through the same loop as due jobs: once it has been served, a due popular would have run too.
        await RequestRefreshAsync(database, "profiles");
        await WaitUntilAsync(() => profiles.Runs == 2, "the requested profiles run");

        Assert.Equal(0, popular.Runs);
    }

    [Fact]
    public async Task A_notified_request_runs_the_job_and_is_marked_handled()
    {
        var database = await CreateDatabaseAsync();
        var popular = new CountingJob("popular");
        var similarities = new CountingJob("similarities");
        await using var refresher = await StartAsync(database, "solo", [popular, similarities]);
        await WaitUntilAsync(() => popular.Runs == 1 && similarities.Runs == 1, "the start-up runs");

        // Polling is set to 60 s, so only the NOTIFY can make this happen within the 20 s wait.
        await RequestRefreshAsync(database, "similarities");
        await WaitUntilAsync(() => similarities.Runs == 2, "the requested similarities run");
        await WaitUntilAsync(
            async () => await ScalarAsync<long>(database, "SELECT count(*) FROM refresh_requests WHERE handled_at IS NULL") == 0,
            "the request to be marked handled");
        Assert.Equal(1, popular.Runs);

        await RequestRefreshAsync(database, "all");
        await WaitUntilAsync(() => popular.Runs == 2 && similarities.Runs == 3, "every job to run for 'all'");

        await RequestRefreshAsync(database, "no-such-job");
        await WaitUntilAsync(
            async () => await ScalarAsync<long>(database, "SELECT count(*) FROM refresh_requests WHERE handled_at IS NULL") == 0,
            "the unknown request to be marked handled");
        Assert.Equal(2, popular.Runs);
        Assert.Equal(3, similarities.Runs);
    }

    [Fact]
    public async Task Requests_made_while_no_refresher_listened_are_served_at_start_up()
    {
        var database = await CreateDatabaseAsync();
        await ExecuteAsync(database, """
            WITH v AS (INSERT INTO model_versions (part, status, completed_at) VALUES ('popularity', 'ready', now()) RETURNING version)
            INSERT INTO model_current (part, version) SELECT 'popularity', version FROM v;
            INSERT INTO job_runs (job, host, started_at, finished_at, status) VALUES ('popular', 'earlier', now(), now(), 'succeeded');
            INSERT INTO refresh_requests (job) VALUES ('popular');
            """);
        var popular = new CountingJob("popular");
        await using var refresher = await StartAsync(database, "solo", [popular]);

        await WaitUntilAsync(() => popular.Runs == 1, "the pending request to run");
        await WaitUntilAsync(
            async () => await ScalarAsync<long>(database, "SELECT count(*) FROM refresh_requests WHERE handled_at IS NULL") == 0,
            "the request to be marked handled");
    }

    [Fact]
    public async Task Demo_data_is_seeded_into_an_empty_catalog_before_the_first_jobs()
    {
        var database = await CreateDatabaseAsync();
        long itemsSeenByJob = -1;
        var popular = new CountingJob("popular");
        popular.BeforeReturn = async () => itemsSeenByJob = await ScalarAsync<long>(database, "SELECT count(*) FROM items");
        await using var refresher = await StartAsync(database, "solo", [popular], new Dictionary<string, string>
        {
            ["Refresher:LoadDemoDataWhenEmpty"] = "true",
            ["Refresher:DemoDataSize"] = "tiny",
        });

        await WaitUntilAsync(() => popular.Runs == 1, "the start-up run");

        Assert.Equal(RecApp.Engine.Datasets.SyntheticDatasetSize.Tiny.Items, itemsSeenByJob);
        Assert.Equal(RecApp.Engine.Datasets.SyntheticDatasetSize.Tiny.Interactions,
            await ScalarAsync<long>(database, "SELECT count(*) FROM interactions"));
    }
}
