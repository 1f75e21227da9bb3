using System.Diagnostics;
using Microsoft.Extensions.Options;
using Npgsql;
using RecApp.Api.Admin;
using RecApp.Api.Recommendations;
using RecApp.Api.Validation;
using RecApp.Api.Caching;
using RecApp.Data;
using RecApp.Data.Jobs;
using RecApp.Data.Source;
using RecApp.Engine;
using RecApp.Engine.Training;
using RecApp.Engine.Embeddings;
using RecApp.Data.Models;
using RecApp.Api.Model;

namespace RecApp.Api.Stats;

/// <summary>
/// Gathers <c>/stats</c>. Database figures come from cheap queries (the interactions count is the planner's
/// estimate once the table is large); when the database is down the rest is still reported.
/// </summary>
public sealed class StatsReader(
    DataCountReader counts,
    ModelStore store,
    JobRunStore jobRuns,
    RecommendationMetrics counters,
    IGlobalModel model,
    CacheTierStatistics cacheStatistics,
    IOptionsMonitor<ApiOptions> serving,
    IOptionsMonitor<RecommendationOptions> engine,
    IOptions<RateLimitingOptions> rateLimiting,
    IOptions<AdminOptions> admin,
    IOptions<DatabaseTimeoutOptions> timeouts,
    SourceDatabase? source = null)
{
    /// <summary>
    /// Everything <c>/stats</c> reports, within <see cref="DatabaseTimeoutOptions.StatsTimeout"/> for the database reads
    /// together: what a frozen or unreachable database did not give in time is left out, saying why.
    /// </summary>
    public async Task<StatsResponse> ReadAsync(CancellationToken cancellationToken)
    {
        var budget = timeouts.Value.StatsTimeout;
        var started = Stopwatch.GetTimestamp();
        TimeSpan Remaining() => budget - Stopwatch.GetElapsedTime(started) is var left && left > TimeSpan.Zero ? left : TimeSpan.Zero;

        DataStats? data = null;
        string? databaseError = null;
        ModelPartStats[] parts = [];
        JobRunStats[] jobs = [];
        try
        {
            (data, parts, jobs) = await WithinAsync(ReadRecdbAsync, Remaining(), cancellationToken);
        }
        catch (TimeoutException)
        {
            databaseError = $"The database did not answer within {budget.TotalMilliseconds:F0} ms; cached answers are still served.";
        }
        catch (Exception ex) when (ex is NpgsqlException || ApiExceptionHandler.IsDatabaseOutage(ex))
        {
            databaseError = "The database could not be read (unreachable or not migrated yet); cached answers are still served.";
        }
        if (source is not null)
        {
            // The service contract's main-database statistics are the shop's; recdb's own events are reported beside them.
            var ownInteractions = data?.Interactions;
            data = null;
            try
            {
                var shop = await WithinAsync(source.CountAsync, Remaining(), cancellationToken);
                data = ToStats(shop, SourceDatabaseOptions.ConnectionName, ownInteractions);
            }
            catch (Exception ex) when (ex is TimeoutException or NpgsqlException || ApiExceptionHandler.IsDatabaseOutage(ex))
            {
                databaseError = (databaseError is null ? "" : databaseError + " ") +
                    "The source database (maindb) could not be read in time; the in-process catalog is still served.";
            }
        }

        var snapshot = model.Current;
        return new StatsResponse(
            data, databaseError, new ModelStats(snapshot.Version, snapshot.Catalog.Count, snapshot.Tuning, parts), jobs, CacheFigures(), Configuration());
    }

    private async Task<(DataStats, ModelPartStats[], JobRunStats[])> ReadRecdbAsync(CancellationToken cancellationToken)
    {
        await using var connection = await counts.DataSource.OpenConnectionAsync(cancellationToken);
        var data = await counts.ReadAsync(connection, cancellationToken);
        var parts = await store.ReadCurrentPartsAsync(connection, cancellationToken);
        var jobs = await jobRuns.LatestPerJobAsync(connection, cancellationToken);
        return (ToStats(data),
            [.. parts.Select(p => new ModelPartStats(p.Part, p.Version, p.SwitchedAt))],
            [.. jobs.Select(j => new JobRunStats(j.Job, j.Status, j.StartedAt, j.FinishedAt, j.DurationMs, j.RowCount, j.ModelVersion, j.Error,
                j.Details is null ? null : System.Text.Json.JsonDocument.Parse(j.Details).RootElement.Clone()))]);
    }

    private static DataStats ToStats(DataCounts counts, string source = "recdb", long? apiInteractions = null) =>
        new(counts.Items, counts.ActiveItems, counts.Users, counts.Interactions, counts.Likes, counts.Clicks, counts.Estimated, source, apiInteractions);

    /// <summary>The read, given up after <paramref name="timeout"/> (cancelled, and observed in the background).</summary>
    private static async Task<T> WithinAsync<T>(Func<CancellationToken, Task<T>> read, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var giveUp = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        giveUp.CancelAfter(timeout);
        var task = read(giveUp.Token);
        try
        {
            return await task.WaitAsync(timeout, cancellationToken);
        }
        catch (Exception ex) when (ex is TimeoutException || (ex is OperationCanceledException && giveUp.IsCancellationRequested && !cancellationToken.IsCancellationRequested))
        {
            _ = task.ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);
            throw new TimeoutException("The database did not answer in time.", ex);
        }
    }

    public CacheStats CacheFigures()
    {
        HitStats Of(long hits, long misses) =>
            new(hits, misses, hits + misses == 0 ? 0 : Math.Round((double)hits / (hits + misses), 4));
        HitStats For(RecommendationKind kind) => Of(counters.Hits(kind), counters.Misses(kind));

        var kinds = Enum.GetValues<RecommendationKind>();
        return new CacheStats(
            For(RecommendationKind.Popular), For(RecommendationKind.Personalized), For(RecommendationKind.Similar),
            Of(kinds.Sum(counters.Hits), kinds.Sum(counters.Misses)),
            cacheStatistics.Read(),
            counters.Fallbacks);
    }

    private ConfigurationStats Configuration()
    {
        var r = serving.CurrentValue;
        var limits = rateLimiting.Value;
        return new ConfigurationStats(
            (int)r.PopularTtl.TotalSeconds, (int)r.PersonalizedTtl.TotalSeconds, (int)r.UserProfileTtl.TotalSeconds, r.DefaultPageSize, r.MaxPageSize,
            engine.CurrentValue.Neighbors.MaxSimilarUsers, r.MaxBatchUsers, r.WarmUsers, limits.Enabled, limits.PermitsPerSecond, limits.Burst,
            admin.Value.IsConfigured);
    }
}
