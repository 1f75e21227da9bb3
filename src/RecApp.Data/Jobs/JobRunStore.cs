using Npgsql;
using NpgsqlTypes;

namespace RecApp.Data.Jobs;

/// <summary>One row of <c>job_runs</c>; <see cref="Details"/> is the published version's <c>model_versions.details</c> JSON when read with it.</summary>
public sealed record JobRun(
    long Id, string Job, string Status, DateTime StartedAt, DateTime? FinishedAt, long? DurationMs, long? RowCount, long? ModelVersion,
    string? Error, string? Details = null);

/// <summary>The <c>job_runs</c> table: one row per run, inserted as 'running' and completed when the run ends.</summary>
public sealed class JobRunStore(NpgsqlDataSource dataSource)
{
    private const int MaxErrorLength = 4000;
    private const string Columns = "j.id, j.job, j.status, j.started_at, j.finished_at, j.duration_ms, j.row_count, j.model_version, j.error";

    public async Task<long> StartAsync(string job, string host, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "INSERT INTO job_runs (job, host, started_at, status) VALUES ($1, $2, now(), 'running') RETURNING id");
        command.Parameters.Add(new() { Value = job });
        command.Parameters.Add(new() { Value = host });
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    public Task SucceededAsync(long runId, TimeSpan duration, long rows, long? version, CancellationToken cancellationToken) =>
        FinishAsync(runId, "succeeded", duration, rows, version, null, cancellationToken);

    public Task FailedAsync(long runId, TimeSpan duration, Exception error, CancellationToken cancellationToken) =>
        FinishAsync(runId, "failed", duration, null, null, Describe(error), cancellationToken);

    public Task CancelledAsync(long runId, TimeSpan duration, CancellationToken cancellationToken) =>
        FinishAsync(runId, "cancelled", duration, null, null, "cancelled: the Refresher stopped or lost leadership mid-job", cancellationToken);

    /// <summary>
    /// Runs left 'running' by a Refresher that died mid-job. Called by a new leader, which is the only instance
    /// running jobs, so every such row is orphaned.
    /// </summary>
    public async Task<int> AbandonOrphanedRunsAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            UPDATE job_runs
            SET status = 'failed', finished_at = now(),
                duration_ms = (extract(epoch FROM now() - started_at) * 1000)::bigint,
                error = 'abandoned: the Refresher running it stopped before finishing'
            WHERE status = 'running'
            """);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>When each job last succeeded (end time), so a new leader keeps the schedule instead of rerunning everything.</summary>
    public async Task<Dictionary<string, DateTime>> LastSuccessesAsync(CancellationToken cancellationToken)
    {
        var result = new Dictionary<string, DateTime>(StringComparer.Ordinal);
        await using var command = dataSource.CreateCommand(
            "SELECT job, max(finished_at) FROM job_runs WHERE status = 'succeeded' GROUP BY job");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            result[reader.GetString(0)] = reader.GetDateTime(1);
        }
        return result;
    }

    /// <summary>The <paramref name="count"/> most recent runs, newest first.</summary>
    public async Task<List<JobRun>> RecentAsync(int count, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"SELECT {Columns} FROM job_runs j ORDER BY j.started_at DESC, j.id DESC LIMIT $1");
        command.Parameters.Add(new() { Value = count });
        return await ReadAsync(command, withDetails: false, cancellationToken);
    }

    /// <summary>Each job's latest run, with the details of the version it published.</summary>
    public async Task<List<JobRun>> LatestPerJobAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand($"""
            SELECT DISTINCT ON (j.job) {Columns}, v.details::text
            FROM job_runs j LEFT JOIN model_versions v ON v.version = j.model_version
            ORDER BY j.job, j.started_at DESC
            """, connection);
        return await ReadAsync(command, withDetails: true, cancellationToken);
    }

    private static async Task<List<JobRun>> ReadAsync(NpgsqlCommand command, bool withDetails, CancellationToken cancellationToken)
    {
        var runs = new List<JobRun>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            runs.Add(new JobRun(
                reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetDateTime(3),
                reader.IsDBNull(4) ? null : reader.GetDateTime(4),
                reader.IsDBNull(5) ? null : reader.GetInt64(5),
                reader.IsDBNull(6) ? null : reader.GetInt64(6),
                reader.IsDBNull(7) ? null : reader.GetInt64(7),
                reader.IsDBNull(8) ? null : reader.GetString(8),
                withDetails && !reader.IsDBNull(9) ? reader.GetString(9) : null));
        }
        return runs;
    }

    private async Task FinishAsync(
        long runId, string status, TimeSpan duration, long? rows, long? version, string? error, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            UPDATE job_runs
            SET status = $2, finished_at = now(), duration_ms = $3, row_count = $4, model_version = $5, error = $6
            WHERE id = $1
            """);
        command.Parameters.Add(new() { Value = runId });
        command.Parameters.Add(new() { Value = status });
        command.Parameters.Add(new() { Value = (long)duration.TotalMilliseconds });
        command.Parameters.Add(new() { Value = (object?)rows ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Bigint });
        command.Parameters.Add(new() { Value = (object?)version ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Bigint });
        command.Parameters.Add(new() { Value = (object?)error ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static string Describe(Exception error)
    {
        var text = $"{error.GetType().Name}: {error.Message}";
        return text.Length <= MaxErrorLength ? text : text[..MaxErrorLength];
    }
}
