using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;
using RecApp.Engine.Domain;
using RecApp.Engine.Model;
using RecApp.Data;
using RecApp.Data.Migrations;
using RecApp.Data.Source;

namespace RecApp.Data.Models;

/// <summary>One part to publish: its name and how to write its rows for a given version (binary COPY).</summary>
public sealed record PartWrite(string Part, Func<NpgsqlConnection, long, CancellationToken, Task<long>> WriteAsync)
{
    /// <summary>JSON stored in <c>model_versions.details</c> of the published version (null: none).</summary>
    public string? Details { get; init; }
}

/// <summary>
/// The versioned global model in PostgreSQL. <see cref="PublishAsync"/> registers each part as a 'building'
/// version (visible to operators), then writes every row, flips the versions to 'ready', retires the previous
/// ones and moves <c>model_current</c> in ONE transaction: readers see the old model or the new one, never a mix,
/// and an exception or crash anywhere before the commit leaves the previous version serving.
/// </summary>
public sealed class ModelStore(NpgsqlDataSource dataSource, ILogger<ModelStore> logger)
{
    /// <summary>Test seam: runs after each part's rows are written, inside the publishing transaction.</summary>
    internal Func<string, CancellationToken, Task>? AfterPartWritten { get; set; }

    /// <summary>Publishes the parts atomically; returns the new version of each, and the rows written in total.</summary>
    public async Task<(IReadOnlyDictionary<string, long> Versions, long Rows)> PublishAsync(
        IReadOnlyList<PartWrite> parts, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var versions = new Dictionary<string, long>();
        foreach (var part in parts)
        {
            await using var insert = new NpgsqlCommand("INSERT INTO model_versions (part) VALUES ($1) RETURNING version", connection);
            insert.Parameters.Add(new() { Value = part.Part });
            versions[part.Part] = (long)(await insert.ExecuteScalarAsync(cancellationToken))!;
        }

        long total = 0;
        try
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            foreach (var part in parts)
            {
                var version = versions[part.Part];
                var rows = await part.WriteAsync(connection, version, cancellationToken);
                total += rows;
                if (AfterPartWritten is { } hook)
                {
                    await hook(part.Part, cancellationToken);
                }
                await using var publish = new NpgsqlCommand("""
                    UPDATE model_versions SET status = 'retired'
                     WHERE version = (SELECT version FROM model_current WHERE part = @part);
                    UPDATE model_versions SET status = 'ready', completed_at = now(), row_count = @rows, details = @details::jsonb
                     WHERE version = @version;
                    INSERT INTO model_current (part, version) VALUES (@part, @version)
                        ON CONFLICT (part) DO UPDATE SET version = excluded.version, switched_at = now();
                    """, connection, transaction);
                publish.Parameters.AddWithValue("part", part.Part);
                publish.Parameters.AddWithValue("version", version);
                publish.Parameters.AddWithValue("rows", rows);
                publish.Parameters.Add(new NpgsqlParameter("details", NpgsqlDbType.Text) { Value = (object?)part.Details ?? DBNull.Value });
                await publish.ExecuteNonQueryAsync(cancellationToken);
            }
            await transaction.CommitAsync(cancellationToken);
        }
        catch (Exception ex)
        {
            await MarkFailedAsync(versions.Values.ToArray(), ex.Message);
            throw;
        }
        logger.LogInformation("Published {Parts} ({Rows} rows).",
            string.Join(", ", versions.Select(v => $"{v.Key} v{v.Value}")), total);
        return (versions, total);
    }

    private async Task MarkFailedAsync(long[] versions, string error)
    {
        try
        {
            await using var command = dataSource.CreateCommand(
                "UPDATE model_versions SET status = 'failed', completed_at = now(), details = jsonb_build_object('error', $2::text) WHERE version = ANY($1) AND status = 'building'");
            command.Parameters.Add(new() { Value = versions });
            command.Parameters.Add(new() { Value = error });
            await command.ExecuteNonQueryAsync(CancellationToken.None);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            // Cleanup turns stale 'building' rows into 'failed' later; the previous version is serving either way.
            logger.LogWarning(ex, "Could not mark versions {Versions} failed.", versions);
        }
    }

    /// <summary>
    /// Marks every 'building' version failed at once. Called by a newly elected Refresher leader: only the leader
    /// builds, so any build still 'building' then was left by a previous leader that stopped mid-build (the stale-build
    /// cleanup would otherwise take <c>StaleBuildAfter</c>, 6 h by default). Returns the versions marked.
    /// </summary>
    public async Task<long[]> FailAbandonedBuildsAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            UPDATE model_versions SET status = 'failed', completed_at = now(),
                   details = jsonb_build_object('error', 'abandoned: the Refresher building it stopped before publishing')
             WHERE status = 'building'
            RETURNING version
            """);
        var versions = new List<long>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            versions.Add(reader.GetInt64(0));
        }
        return [.. versions];
    }

    /// <summary>The current version of each published part.</summary>
    /// <summary>Each part's current version and when it became current, by part name.</summary>
    public async Task<List<(string Part, long Version, DateTime SwitchedAt)>> ReadCurrentPartsAsync(
        NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT part, version, switched_at FROM model_current ORDER BY part", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var parts = new List<(string, long, DateTime)>();
        while (await reader.ReadAsync(cancellationToken))
        {
            parts.Add((reader.GetString(0), reader.GetInt64(1), reader.GetDateTime(2)));
        }
        return parts;
    }

    public async Task<Dictionary<string, long>> ReadCurrentVersionsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await ReadCurrentVersionsAsync(connection, null, cancellationToken);
    }

    private static async Task<Dictionary<string, long>> ReadCurrentVersionsAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, CancellationToken cancellationToken)
    {
        var versions = new Dictionary<string, long>();
        await using var command = new NpgsqlCommand("SELECT part, version FROM model_current", connection, transaction);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            versions[reader.GetString(0)] = reader.GetInt64(1);
        }
        return versions;
    }

    // ---- Reading (one REPEATABLE READ snapshot) --------------------------------------------------------------

    /// <summary>
    /// Reads the current version of each part in <paramref name="parts"/> (those not yet published, and names this build
    /// does not know, are absent), all from one database snapshot so a concurrent publish or cleanup cannot tear the read.
    /// </summary>
    public async Task<StoredModel> ReadAsync(IReadOnlyCollection<string> parts, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
        var versions = await ReadCurrentVersionsAsync(connection, transaction, cancellationToken);
        var wanted = parts.Select(ModelParts.Find).OfType<ModelPart>().Where(p => versions.ContainsKey(p.Name)).ToArray();
        var details = new Dictionary<long, string?>();
        await using (var command = new NpgsqlCommand("SELECT version, details::text FROM model_versions WHERE version = ANY($1)", connection, transaction))
        {
            command.Parameters.Add(new() { Value = wanted.Select(p => versions[p.Name]).ToArray() });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                details[reader.GetInt64(0)] = reader.IsDBNull(1) ? null : reader.GetString(1);
            }
        }
        var values = new Dictionary<ModelPart, object>();
        foreach (var part in wanted)
        {
            var version = versions[part.Name];
            values[part] = await part.ReadAsync(connection, version, details.GetValueOrDefault(version), cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
        return new StoredModel(versions, values);
    }

    // ---- Cleanup -----------------------------------------------------------------------------------------------

    /// <summary>
    /// Marks stale 'building' versions failed, deletes the rows of failed versions and of retired versions beyond the
    /// newest <paramref name="keepRetired"/> per part, forgets old version metadata, old job runs and handled
    /// refresh requests. Never touches a current version. Returns the rows deleted.
    /// </summary>
    public async Task<long> CleanupAsync(int keepRetired, TimeSpan staleBuildAfter, TimeSpan historyRetention, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        long deleted = 0;
        await using (var command = new NpgsqlCommand("""
            UPDATE model_versions SET status = 'failed', completed_at = now()
             WHERE status = 'building' AND created_at < now() - $1
            """, connection, transaction))
        {
            command.Parameters.Add(new() { Value = staleBuildAfter });
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        long[] doomed;
        await using (var command = new NpgsqlCommand("""
            SELECT version FROM (
                SELECT version, status, row_number() OVER (PARTITION BY part ORDER BY version DESC) AS rank
                  FROM model_versions WHERE status IN ('retired', 'failed')) v
             WHERE (status = 'failed' OR rank > $1)
               AND version NOT IN (SELECT version FROM model_current)
            """, connection, transaction))
        {
            command.Parameters.Add(new() { Value = keepRetired });
            var list = new List<long>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                list.Add(reader.GetInt64(0));
            }
            doomed = [.. list];
        }

        foreach (var table in ModelParts.All.SelectMany(p => p.Tables))
        {
            await using var command = new NpgsqlCommand($"DELETE FROM {table} WHERE version = ANY($1)", connection, transaction);
            command.Parameters.Add(new() { Value = doomed });
            deleted += await command.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var command = new NpgsqlCommand("""
            DELETE FROM model_versions
             WHERE version = ANY(@doomed) AND created_at < now() - @retention AND version NOT IN (SELECT version FROM model_current);
            DELETE FROM job_runs WHERE status <> 'running' AND started_at < now() - @retention;
            DELETE FROM refresh_requests WHERE handled_at IS NOT NULL AND handled_at < now() - @retention;
            """, connection, transaction))
        {
            command.Parameters.AddWithValue("doomed", doomed);
            command.Parameters.AddWithValue("retention", historyRetention);
            deleted += await command.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
        return deleted;
    }
}

/// <summary>What <see cref="ModelStore.ReadAsync"/> found: current versions and the parts asked for that exist.</summary>
public sealed class StoredModel(IReadOnlyDictionary<string, long> versions, IReadOnlyDictionary<ModelPart, object> values)
{
    public IReadOnlyDictionary<string, long> Versions { get; } = versions;

    /// <summary>The value read for <paramref name="part"/>, or null when it was not read.</summary>
    public T? Get<T>(ModelPart<T> part) where T : class => values.TryGetValue(part, out var value) ? (T)value : null;

    /// <summary><paramref name="snapshot"/> with every part read replaced.</summary>
    public ModelSnapshot ApplyTo(ModelSnapshot snapshot)
    {
        foreach (var (part, value) in values)
        {
            snapshot = part.ApplyTo(snapshot, value);
        }
        return snapshot;
    }
}
