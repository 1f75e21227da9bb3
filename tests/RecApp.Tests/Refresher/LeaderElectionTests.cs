using static RecApp.Tests.Refresher.RefresherHost;

namespace RecApp.Tests.Refresher;

public sealed class LeaderElectionTests
{
    [Fact]
    public async Task Only_the_leader_runs_jobs_and_a_follower_takes_over_when_the_leader_dies_or_stops()
    {
        var database = await CreateDatabaseAsync();
        var jobA = new CountingJob("popular");
        var jobB = new CountingJob("popular");
        await using var a = await StartAsync(database, "refresher-a", [jobA]);
        await WaitUntilAsync(() => jobA.Runs == 1, "A to lead and run its start-up job");
        await using var b = await StartAsync(database, "refresher-b", [jobB]);

        // Both receive the NOTIFY connection-wise, but only the leader listens and runs.
        await RequestRefreshAsync(database, "popular");
        await WaitUntilAsync(() => jobA.Runs == 2, "A to serve the request");
        Assert.True(a.IsLeader);
        Assert.False(b.IsLeader);
        Assert.Equal(0, jobB.Runs);

        // The leader's lock session dies (a crash or a network cut): B takes over, A steps down and follows.
        await ExecuteAsync(database, """
            SELECT pg_terminate_backend(pid) FROM pg_locks
            WHERE locktype = 'advisory' AND granted AND ((classid::bigint << 32) | objid::bigint) = $1
            """, RecApp.Data.Jobs.LeaderLock.Key);
        await WaitUntilAsync(() => jobB.Runs == 1, "B to take over (no model exists, so it runs every job)");
        await WaitUntilAsync(() => b.IsLeader && !a.IsLeader, "A to step down");
        var runsOfA = jobA.Runs;

        // B stops gracefully: A leads again.
        await b.StopAsync();
        await WaitUntilAsync(() => a.IsLeader && jobA.Runs > runsOfA, "A to lead again after B stopped");

        Assert.Equal(1, await ScalarAsync<long>(database,
            "SELECT count(DISTINCT host) FROM job_runs WHERE started_at > (SELECT max(started_at) FROM job_runs WHERE host = 'refresher-b')"));
        Assert.Equal(0, await ScalarAsync<long>(database, "SELECT count(*) FROM job_runs WHERE status = 'running'"));
    }
}
