using System.Diagnostics;
using Microsoft.Extensions.Options;
using Npgsql;
using RecApp.Data.Jobs;
using RecApp.Data.Models;
using RecApp.Refresher.Jobs;

namespace RecApp.Refresher.Worker;

/// <summary>
/// Keeps the global model fresh (the schema is applied beforehand by the migration step). Becomes leader (one per database), seeds demo data when
/// asked to, then runs each <see cref="IModelJob"/> when its interval has passed since its last success, every job
/// at once when no model exists yet, and any job requested through <c>refresh_requests</c>. Jobs due together run side by
/// side, their builds one at a time and their publishes one at a time (<see cref="BuildGate"/>), so one job publishes while
/// the next builds; every run is
/// recorded in <c>job_runs</c>; a new model version is announced on Redis.
/// </summary>
public sealed class RefresherWorker(
    IEnumerable<IModelJob> jobs,
    LeaderElection election,
    JobRunStore history,
    RefreshRequestInbox inbox,
    ModelVersionAnnouncer announcer,
    DemoDataLoader demoData,
    ModelStore store,
    TimeProvider time,
    RefresherMetrics metrics,
    IOptions<RefresherOptions> options,
    ILogger<RefresherWorker> logger) : BackgroundService
{
    private readonly IModelJob[] _jobs = jobs.ToArray();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_jobs.Length == 0)
        {
            logger.LogWarning("No model jobs are registered; the Refresher has nothing to run.");
        }
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await using var lease = await election.AcquireAsync(stoppingToken);
                using var leading = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, lease.Lost);
                try
                {
                    await LeadAsync(leading.Token);
                }
                catch (OperationCanceledException) when (lease.Lost.IsCancellationRequested && !stoppingToken.IsCancellationRequested)
                {
                    logger.LogWarning("Leadership lost; waiting to lead again.");
                }
                catch (Exception ex) when (ex is NpgsqlException or TimeoutException or System.Net.Sockets.SocketException)
                {
                    logger.LogWarning(ex, "Database error while leading; stepping down and retrying.");
                    await Task.Delay(options.Value.LeaderCheckInterval, stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task LeadAsync(CancellationToken cancellationToken)
    {
        // Whatever a previous leader left half-done is dead now that this instance holds the lock: close it at once,
        // so /stats and model_versions tell the truth without waiting for the stale-build cleanup.
        var abandoned = await history.AbandonOrphanedRunsAsync(cancellationToken);
        if (abandoned > 0)
        {
            logger.LogWarning("Marked {Count} job runs left 'running' by a previous leader as failed.", abandoned);
        }
        var builds = await store.FailAbandonedBuildsAsync(cancellationToken);
        if (builds.Length > 0)
        {
            logger.LogWarning("Marked model versions {Versions} left 'building' by a previous leader as failed.", builds);
        }
        await demoData.LoadIfEmptyAsync(cancellationToken);

        var next = await InitialScheduleAsync(cancellationToken);
        while (true)
        {
            // Listen first, then read the table, so a request cannot slip between the two.
            await inbox.ListenAsync(cancellationToken);
            await RunRequestedAsync(next, cancellationToken);

            var now = time.GetUtcNow();
            await RunTogetherAsync(_jobs.Where(j => next[j.Name] <= now), next, cancellationToken);

            var wait = options.Value.RequestPollInterval;
            foreach (var due in next.Values)
            {
                var until = due - time.GetUtcNow();
                if (until < wait)
                {
                    wait = until;
                }
            }
            if (wait > TimeSpan.Zero)
            {
                await inbox.WaitAsync(wait, cancellationToken);
            }
        }
    }

    /// <summary>Every job is due now when no model exists; otherwise each is due an interval after its last success.</summary>
    private async Task<Dictionary<string, DateTimeOffset>> InitialScheduleAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var next = _jobs.ToDictionary(j => j.Name, _ => now, StringComparer.Ordinal);
        if ((await store.ReadCurrentVersionsAsync(cancellationToken)).Count == 0)
        {
            logger.LogInformation("No model exists yet: running every job now.");
            return next;
        }
        var lastSuccess = await history.LastSuccessesAsync(cancellationToken);
        foreach (var job in _jobs)
        {
            if (lastSuccess.TryGetValue(job.Name, out var finished))
            {
                next[job.Name] = options.Value.IntervalFor(job.Name) is { } interval
                    ? new DateTimeOffset(DateTime.SpecifyKind(finished, DateTimeKind.Utc)) + interval
                    : DateTimeOffset.MaxValue;
            }
        }
        return next;
    }

    private async Task RunRequestedAsync(Dictionary<string, DateTimeOffset> next, CancellationToken cancellationToken)
    {
        var requests = await inbox.ReadPendingAsync(cancellationToken);
        if (requests.Count == 0)
        {
            return;
        }
        var requested = new HashSet<string>(StringComparer.Ordinal);
        foreach (var request in requests)
        {
            if (request.Job == RefresherOptions.AllJobs)
            {
                requested.UnionWith(_jobs.Select(j => j.Name));
            }
            else if (_jobs.Any(j => j.Name == request.Job))
            {
                requested.Add(request.Job);
            }
            else
            {
                logger.LogWarning("Refresh request {Id} names unknown job '{Job}'; ignoring it.", request.Id, request.Job);
            }
        }
        var chosen = _jobs.Where(j => requested.Contains(j.Name)).ToArray();
        if (chosen.Length > 0)
        {
            logger.LogInformation("Running {Jobs} on request.", string.Join(", ", chosen.Select(j => j.Name)));
            await RunTogetherAsync(chosen, next, cancellationToken);
        }
        // Marked only after the jobs ran: a leader that dies mid-way leaves them for the next one.
        await inbox.MarkHandledAsync(requests.Select(r => r.Id), cancellationToken);
    }

    /// <summary>
    /// Runs the jobs side by side, started in their registration order (popular first: the fallback every answer needs),
    /// and records when each is next due. Their builds take turns through the <see cref="BuildGate"/>.
    /// </summary>
    private async Task RunTogetherAsync(IEnumerable<IModelJob> jobs, Dictionary<string, DateTimeOffset> next, CancellationToken cancellationToken)
    {
        // Recorded first, then started without an await in between: each job asks for its build turn in this order, and
        // the gate serves them in the order they asked.
        var started = new List<(IModelJob Job, long RunId)>();
        try
        {
            foreach (var job in jobs)
            {
                started.Add((job, await history.StartAsync(job.Name, options.Value.InstanceName, cancellationToken)));
            }
        }
        catch
        {
            // None of them ran: close the runs already recorded rather than leave them 'running'.
            foreach (var (_, runId) in started)
            {
                await RecordAsync(() => history.CancelledAsync(runId, TimeSpan.Zero, CancellationToken.None));
            }
            throw;
        }
        var runs = started.Select(s => (s.Job.Name, Due: RunAsync(s.Job, s.RunId, cancellationToken))).ToArray();
        await Task.WhenAll(runs.Select(r => r.Due));
        foreach (var (name, due) in runs)
        {
            next[name] = await due;
        }
    }

    /// <summary>Runs one job recorded as <paramref name="runId"/> and records its end; returns when the job is next due.</summary>
    private async Task<DateTimeOffset> RunAsync(IModelJob job, long runId, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var interval = settings.IntervalFor(job.Name);
        using var activity = RefresherMetrics.Source.StartActivity("job " + job.Name);
        var stopwatch = Stopwatch.StartNew();
        try
        {
            var result = await job.RunAsync(cancellationToken);
            metrics.JobFinished(job.Name, "succeeded", stopwatch.Elapsed, result.Rows, result.ModelVersion);
            activity?.SetTag("rows", result.Rows);
            await RecordAsync(() => history.SucceededAsync(runId, stopwatch.Elapsed, result.Rows, result.ModelVersion, CancellationToken.None));
            logger.LogInformation("{Job} succeeded in {Elapsed}: {Rows} rows, model version {Version}.",
                job.Name, stopwatch.Elapsed, result.Rows, result.ModelVersion);
            if (result.ModelVersion is { } version)
            {
                await announcer.AnnounceAsync(version);
            }
            return interval is { } i ? time.GetUtcNow() + i : DateTimeOffset.MaxValue;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            metrics.JobFinished(job.Name, "cancelled", stopwatch.Elapsed, null, null);
            await RecordAsync(() => history.CancelledAsync(runId, stopwatch.Elapsed, CancellationToken.None));
            logger.LogWarning("{Job} cancelled after {Elapsed}.", job.Name, stopwatch.Elapsed);
            throw;
        }
        catch (Exception ex)
        {
            // A failed job leaves the previous model serving; it is retried sooner than its interval.
            metrics.JobFinished(job.Name, "failed", stopwatch.Elapsed, null, null);
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            await RecordAsync(() => history.FailedAsync(runId, stopwatch.Elapsed, ex, CancellationToken.None));
            logger.LogError(ex, "{Job} failed after {Elapsed}.", job.Name, stopwatch.Elapsed);
            var retry = settings.FailedJobRetryDelay;
            return time.GetUtcNow() + (interval is { } i && i < retry ? i : retry);
        }
    }

    /// <summary>History is best effort once the job has ended: a database outage must not hide the job's own outcome.</summary>
    private async Task RecordAsync(Func<Task> write)
    {
        try
        {
            await write().WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or System.Net.Sockets.SocketException)
        {
            logger.LogWarning(ex, "Could not record a job run in job_runs.");
        }
    }
}
