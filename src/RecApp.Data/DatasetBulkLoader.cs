using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;
using RecApp.Engine.Domain;
using RecApp.Engine.Embeddings;
using RecApp.Data.Models;
using RecApp.Data.Migrations;
using RecApp.Data.Source;

namespace RecApp.Data;

/// <summary>How far a bulk load got: rows of <paramref name="Table"/> written so far out of <paramref name="Total"/>.</summary>
public readonly record struct BulkLoadProgress(string Table, long Written, long Total);

/// <summary>What a bulk load wrote.</summary>
public sealed record BulkLoadResult(long Items, long Users, long Interactions, TimeSpan Elapsed);

/// <summary>
/// Writes a <see cref="Dataset"/> into PostgreSQL with binary COPY, all in one transaction: a failure anywhere
/// (a duplicate id, a constraint, a dropped connection, cancellation) leaves the database exactly as it was.
/// When <c>interactions</c> is empty at the start (loading a new database), its indexes are dropped and rebuilt
/// inside that transaction, since one sorted index build is much cheaper than millions of single inserts into it.
/// Otherwise the rows are copied with the indexes in place: dropping an index takes an ACCESS EXCLUSIVE lock on the
/// table until commit, which would block every history read of a live API for the whole load.
/// </summary>
public sealed class DatasetBulkLoader(NpgsqlDataSource dataSource, ILogger<DatasetBulkLoader> logger)
{
    private const int ProgressEvery = 20_000;

    /// <summary>True when the catalog is empty (what <c>generate --if-empty</c> and the demo data loading check).</summary>
    public async Task<bool> IsEmptyAsync(CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("SELECT NOT EXISTS (SELECT 1 FROM items)");
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    public async Task<BulkLoadResult> LoadAsync(
        Dataset dataset, IProgress<BulkLoadProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await ExecuteAsync(connection, "SET LOCAL maintenance_work_mem = '256MB'", cancellationToken);

        var items = await CopyItemsAsync(connection, dataset.Items, progress, cancellationToken);
        var users = await CopyUsersAsync(connection, dataset.Users, progress, cancellationToken);

        var indexes = await HasInteractionsAsync(connection, cancellationToken)
            ? []
            : await DropSecondaryIndexesAsync(connection, cancellationToken);
        var copied = stopwatch.Elapsed;
        var interactions = await CopyInteractionsAsync(connection, dataset.Interactions, progress, cancellationToken);
        var indexing = stopwatch.Elapsed;
        foreach (var definition in indexes)
        {
            progress?.Report(new BulkLoadProgress("indexes", 0, indexes.Count));
            await ExecuteAsync(connection, definition, cancellationToken);
        }
        var committing = stopwatch.Elapsed;
        await transaction.CommitAsync(cancellationToken);
        logger.LogDebug(
            "Bulk load phases: catalog and users {Catalog}, interactions {Interactions}, {Indexes} index rebuilds {Rebuild}, commit {Commit}.",
            copied, indexing - copied, indexes.Count, committing - indexing, stopwatch.Elapsed - committing);
        foreach (var table in new[] { "items", "users", "interactions" })
        {
            await ExecuteAsync(connection, $"ANALYZE {table}", cancellationToken);
        }
        logger.LogInformation(
            "Loaded {Items} items, {Users} users and {Interactions} interactions in {Elapsed}.",
            items, users, interactions, stopwatch.Elapsed);
        return new BulkLoadResult(items, users, interactions, stopwatch.Elapsed);
    }

    private static async Task<long> CopyItemsAsync(
        NpgsqlConnection connection, IReadOnlyList<CatalogItem> items, IProgress<BulkLoadProgress>? progress, CancellationToken cancellationToken)
    {
        var now = DateTime.UtcNow;
        await using var writer = await connection.BeginBinaryImportAsync(
            "COPY items (id, title, category, tags, price, geo_id, active, created_at, updated_at) FROM STDIN (FORMAT BINARY)",
            cancellationToken);
        for (var i = 0; i < items.Count; i++)
        {
            var item = items[i];
            await writer.StartRowAsync(cancellationToken);
            await writer.WriteAsync(item.Id, NpgsqlDbType.Bigint, cancellationToken);
            await writer.WriteAsync(item.Title, NpgsqlDbType.Text, cancellationToken);
            await writer.WriteAsync(item.Category, NpgsqlDbType.Text, cancellationToken);
            await writer.WriteAsync(item.Tags, NpgsqlDbType.Array | NpgsqlDbType.Text, cancellationToken);
            await writer.WriteAsync(item.Price, NpgsqlDbType.Numeric, cancellationToken);
            await writer.WriteNullableAsync(item.GeoId, NpgsqlDbType.Integer, cancellationToken);
            await writer.WriteAsync(item.Active, NpgsqlDbType.Boolean, cancellationToken);
            await writer.WriteAsync(AsUtc(item.CreatedAt), NpgsqlDbType.TimestampTz, cancellationToken);
            await writer.WriteAsync(now, NpgsqlDbType.TimestampTz, cancellationToken);
            Report(progress, "items", i + 1, items.Count);
        }
        var written = (long)await writer.CompleteAsync(cancellationToken);
        progress?.Report(new BulkLoadProgress("items", written, items.Count));
        return written;
    }

    private static async Task<long> CopyUsersAsync(
        NpgsqlConnection connection, IReadOnlyList<UserDemographics> users, IProgress<BulkLoadProgress>? progress, CancellationToken cancellationToken)
    {
        await using var writer = await connection.BeginBinaryImportAsync(
            "COPY users (id, gender, age_group, geo_id) FROM STDIN (FORMAT BINARY)", cancellationToken);
        for (var i = 0; i < users.Count; i++)
        {
            var user = users[i];
            await writer.StartRowAsync(cancellationToken);
            await writer.WriteAsync(user.Id, NpgsqlDbType.Bigint, cancellationToken);
            await writer.WriteNullableAsync(user.Gender, NpgsqlDbType.Text, cancellationToken);
            await writer.WriteNullableAsync(user.AgeGroup, NpgsqlDbType.Text, cancellationToken);
            await writer.WriteNullableAsync(user.GeoId, NpgsqlDbType.Integer, cancellationToken);
            Report(progress, "users", i + 1, users.Count);
        }
        var written = (long)await writer.CompleteAsync(cancellationToken);
        progress?.Report(new BulkLoadProgress("users", written, users.Count));
        return written;
    }

    private static async Task<long> CopyInteractionsAsync(
        NpgsqlConnection connection, Interaction[] interactions, IProgress<BulkLoadProgress>? progress, CancellationToken cancellationToken)
    {
        await using var writer = await connection.BeginBinaryImportAsync(
            "COPY interactions (user_id, item_id, type, value, occurred_at) FROM STDIN (FORMAT BINARY)", cancellationToken);
        for (var i = 0; i < interactions.Length; i++)
        {
            var interaction = interactions[i];
            await writer.StartRowAsync(cancellationToken);
            await writer.WriteAsync(interaction.UserId, NpgsqlDbType.Bigint, cancellationToken);
            await writer.WriteAsync(interaction.ItemId, NpgsqlDbType.Bigint, cancellationToken);
            await writer.WriteAsync((short)interaction.Type, NpgsqlDbType.Smallint, cancellationToken);
            await writer.WriteNullableAsync(interaction.Value, NpgsqlDbType.Real, cancellationToken);
            await writer.WriteAsync(AsUtc(interaction.OccurredAt), NpgsqlDbType.TimestampTz, cancellationToken);
            Report(progress, "interactions", i + 1, interactions.Length);
        }
        var written = (long)await writer.CompleteAsync(cancellationToken);
        progress?.Report(new BulkLoadProgress("interactions", written, interactions.Length));
        return written;
    }

    /// <summary>
    /// Drops the plain (non-constraint) indexes of <c>interactions</c> and returns their definitions, read from the
    /// catalog so the schema stays owned by the migrations.
    /// </summary>
    private static async Task<List<string>> DropSecondaryIndexesAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var indexes = new List<(string Name, string Definition)>();
        await using (var command = new NpgsqlCommand("""
            SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
            FROM pg_index i
            WHERE i.indrelid = 'interactions'::regclass
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
            """, connection))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                indexes.Add((reader.GetString(0), reader.GetString(1)));
            }
        }
        foreach (var (name, _) in indexes)
        {
            await ExecuteAsync(connection, $"DROP INDEX {name}", cancellationToken);
        }
        return indexes.Select(i => i.Definition).ToList();
    }

    private static async Task<bool> HasInteractionsAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT EXISTS (SELECT 1 FROM interactions)", connection);
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    private static void Report(IProgress<BulkLoadProgress>? progress, string table, long written, long total)
    {
        if (progress is not null && written % ProgressEvery == 0)
        {
            progress.Report(new BulkLoadProgress(table, written, total));
        }
    }

    private static DateTime AsUtc(DateTime value) => value.Kind switch
    {
        DateTimeKind.Utc => value,
        DateTimeKind.Local => value.ToUniversalTime(),
        _ => DateTime.SpecifyKind(value, DateTimeKind.Utc),
    };

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        // No time limit: rebuilding an index over 50M interactions (size XL) takes minutes, longer than Npgsql's 30 s
        // default, which rolled the whole load back. The caller's token still stops it.
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
