using System.Diagnostics;
using Microsoft.Extensions.Options;
using Npgsql;
using RecApp.Api.Admin;
using RecApp.Api.Recommendations;
using RecApp.Api.Validation;
using RecApp.Api.Caching;
using RecApp.Recommendations.Data;
using RecApp.Recommendations.Model;

namespace RecApp.Api.Stats;

/// <summary>
/// Gathers <c>/stats</c>. Database figures come from cheap queries (the interactions count is the planner's
/// estimate once the table is large); when the database is down the rest is still reported.
/// </summary>
public sealed class StatsReader(
    NpgsqlDataSource dataSource,
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
    private const long ExactCountBelow = 100_000;

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
            // Seed 002's main-database statistics are the shop's; recdb's own events are reported beside them.
            var ownInteractions = data?.Interactions;
            data = null;
            try
            {
                var counts = await WithinAsync(source.CountAsync, Remaining(), cancellationToken);
                data = new DataStats(counts.Items, counts.ActiveItems, counts.Users, counts.Interactions, counts.Likes, counts.Clicks,
                    InteractionsEstimated: false, Source: SourceDatabaseOptions.ConnectionName, ApiInteractions: ownInteractions);
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
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var data = await ReadDataAsync(connection, cancellationToken);
        var parts = await ReadPartsAsync(connection, cancellationToken);
        var jobs = await ReadJobsAsync(connection, cancellationToken);
        return (data, parts, jobs);
    }

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
            engine.CurrentValue.MaxSimilarUsers, r.MaxBatchUsers, r.WarmUsers, limits.Enabled, limits.PermitsPerSecond, limits.Burst,
            admin.Value.IsConfigured);
    }

    private static async Task<DataStats> ReadDataAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            SELECT (SELECT count(*) FROM items),
                   (SELECT count(*) FROM items WHERE active),
                   (SELECT count(*) FROM users),
                   (SELECT reltuples::bigint FROM pg_class WHERE oid = 'interactions'::regclass)
            """, connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var (items, active, users, estimate) = (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3));
        await reader.CloseAsync();

        // reltuples is -1 before the first ANALYZE and rough on small tables: count exactly when that is cheap. On a
        // large table, seed 002's likes and clicks come from the planner's statistics too: interaction types are few,
        // so every one of them is among the column's most common values, with its frequency.
        if (estimate >= ExactCountBelow)
        {
            await using var byType = new NpgsqlCommand("""
                SELECT v::text::smallint, f FROM pg_stats s, unnest(s.most_common_vals::text::text[], s.most_common_freqs) AS m(v, f)
                WHERE s.schemaname = current_schema() AND s.tablename = 'interactions' AND s.attname = 'type'
                """, connection);
            long likes = 0, clicks = 0;
            await using (var frequencies = await byType.ExecuteReaderAsync(cancellationToken))
            {
                while (await frequencies.ReadAsync(cancellationToken))
                {
                    var share = (long)Math.Round(frequencies.GetFloat(1) * estimate);
                    switch ((InteractionType)frequencies.GetInt16(0))
                    {
                        case InteractionType.Like: likes = share; break;
                        case InteractionType.Click: clicks = share; break;
                    }
                }
            }
            return new DataStats(items, active, users, estimate, likes, clicks, InteractionsEstimated: true);
        }
        await using var count = new NpgsqlCommand($"""
            SELECT count(*), count(*) FILTER (WHERE type = {(short)InteractionType.Like}), count(*) FILTER (WHERE type = {(short)InteractionType.Click})
            FROM interactions
            """, connection);
        await using var exact = await count.ExecuteReaderAsync(cancellationToken);
        await exact.ReadAsync(cancellationToken);
        return new DataStats(items, active, users, exact.GetInt64(0), exact.GetInt64(1), exact.GetInt64(2), InteractionsEstimated: false);
    }

    private static async Task<ModelPartStats[]> ReadPartsAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT part, version, switched_at FROM model_current ORDER BY part", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var parts = new List<ModelPartStats>();
        while (await reader.ReadAsync(cancellationToken))
        {
            parts.Add(new ModelPartStats(reader.GetString(0), reader.GetInt64(1), reader.GetDateTime(2)));
        }
        return [.. parts];
    }

    private static async Task<JobRunStats[]> ReadJobsAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            SELECT DISTINCT ON (j.job) j.job, j.status, j.started_at, j.finished_at, j.duration_ms, j.row_count, j.model_version,
                   j.error, v.details::text
            FROM job_runs j LEFT JOIN model_versions v ON v.version = j.model_version
            ORDER BY j.job, j.started_at DESC
            """, connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var jobs = new List<JobRunStats>();
        while (await reader.ReadAsync(cancellationToken))
        {
            jobs.Add(new JobRunStats(
                reader.GetString(0), reader.GetString(1), reader.GetDateTime(2),
                reader.IsDBNull(3) ? null : reader.GetDateTime(3),
                reader.IsDBNull(4) ? null : reader.GetInt64(4),
                reader.IsDBNull(5) ? null : reader.GetInt64(5),
                reader.IsDBNull(6) ? null : reader.GetInt64(6),
                reader.IsDBNull(7) ? null : reader.GetString(7),
                reader.IsDBNull(8) ? null : System.Text.Json.JsonDocument.Parse(reader.GetString(8)).RootElement.Clone()));
        }
        return [.. jobs];
    }
}
