using Microsoft.Extensions.Options;
using Npgsql;
using RecApp.Recommendations.Model;

namespace RecApp.Refresher.Worker;

/// <summary>The <c>job_runs</c> table: one row per run, inserted as 'running' and completed when the run ends.</summary>
public sealed class JobRunHistory(NpgsqlDataSource dataSource, IOptions<RefresherOptions> options)
{
    private const int MaxErrorLength = 4000;

    public async Task<long> StartAsync(string job, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "INSERT INTO job_runs (job, host, started_at, status) VALUES ($1, $2, now(), 'running') RETURNING id");
        command.Parameters.Add(new() { Value = job });
        command.Parameters.Add(new() { Value = options.Value.InstanceName });
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    public Task SucceededAsync(long runId, TimeSpan duration, ModelJobResult result, CancellationToken cancellationToken) =>
        FinishAsync(runId, "succeeded", duration, result.Rows, result.ModelVersion, null, cancellationToken);

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
        command.Parameters.Add(new() { Value = (object?)rows ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Bigint });
        command.Parameters.Add(new() { Value = (object?)version ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Bigint });
        command.Parameters.Add(new() { Value = (object?)error ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static string Describe(Exception error)
    {
        var text = $"{error.GetType().Name}: {error.Message}";
        return text.Length <= MaxErrorLength ? text : text[..MaxErrorLength];
    }
}
