using System.Text.Json;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;
using RecApp.Recommendations.Data;

namespace RecApp.Recommendations.Model;

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
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);

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

    // ---- Writers (binary COPY) -----------------------------------------------------------------------------

    public static PartWrite Popularity(PopularityModel model) => new(ModelParts.Popularity, async (connection, version, ct) =>
    {
        await using var writer = await connection.BeginBinaryImportAsync(
            "COPY popular_items (version, geo_id, gender, age_group, category, item_ids, scores) FROM STDIN (FORMAT BINARY)", ct);
        foreach (var (segment, list) in model.Lists)
        {
            await writer.StartRowAsync(ct);
            await writer.WriteAsync(version, NpgsqlDbType.Bigint, ct);
            await writer.WriteNullableAsync(segment.GeoId, NpgsqlDbType.Integer, ct);
            await writer.WriteNullableAsync(segment.Gender, NpgsqlDbType.Text, ct);
            await writer.WriteNullableAsync(segment.AgeGroup, NpgsqlDbType.Text, ct);
            await writer.WriteNullableAsync(segment.Category, NpgsqlDbType.Text, ct);
            await WriteListAsync(writer, list, ct);
        }
        return (long)await writer.CompleteAsync(ct);
    });

    public static PartWrite Trending(TrendingModel model) => new(ModelParts.Trending, async (connection, version, ct) =>
    {
        await using var writer = await connection.BeginBinaryImportAsync(
            "COPY trending_items (version, category, item_ids, scores) FROM STDIN (FORMAT BINARY)", ct);
        foreach (var (category, list) in model.ByCategory.Prepend(new(null!, model.Overall)))
        {
            await writer.StartRowAsync(ct);
            await writer.WriteAsync(version, NpgsqlDbType.Bigint, ct);
            await writer.WriteNullableAsync(category, NpgsqlDbType.Text, ct);
            await WriteListAsync(writer, list, ct);
        }
        return (long)await writer.CompleteAsync(ct);
    });

    /// <summary>The item neighbors, with what the build chose (<see cref="ModelTuning"/>) in the version's details.</summary>
    public static PartWrite ItemNeighbors(ItemNeighborModel model, ModelTuning tuning) => ItemNeighbors(model) with
    {
        Details = JsonSerializer.Serialize(tuning, s_json),
    };

    public static PartWrite ItemNeighbors(ItemNeighborModel model) => new(ModelParts.ItemNeighbors, async (connection, version, ct) =>
    {
        await using var writer = await connection.BeginBinaryImportAsync(
            "COPY item_neighbors (version, item_id, kind, neighbor_ids, scores) FROM STDIN (FORMAT BINARY)", ct);
        foreach (var (kind, lists) in new[] { ("collaborative", model.Collaborative), ("content", model.Content) })
        {
            foreach (var (itemId, list) in lists)
            {
                await writer.StartRowAsync(ct);
                await writer.WriteAsync(version, NpgsqlDbType.Bigint, ct);
                await writer.WriteAsync(itemId, NpgsqlDbType.Bigint, ct);
                await writer.WriteAsync(kind, NpgsqlDbType.Text, ct);
                await WriteListAsync(writer, list, ct);
            }
        }
        return (long)await writer.CompleteAsync(ct);
    });

    public static PartWrite UserNeighbors(UserNeighborModel model) => new(ModelParts.UserNeighbors, async (connection, version, ct) =>
    {
        await using var writer = await connection.BeginBinaryImportAsync(
            "COPY user_neighbors (version, user_id, neighbor_ids, scores, item_ids, item_scores) FROM STDIN (FORMAT BINARY)", ct);
        foreach (var (userId, neighborhood) in model.Users)
        {
            await writer.StartRowAsync(ct);
            await writer.WriteAsync(version, NpgsqlDbType.Bigint, ct);
            await writer.WriteAsync(userId, NpgsqlDbType.Bigint, ct);
            await WriteListAsync(writer, neighborhood.Neighbors, ct);
            await WriteListAsync(writer, neighborhood.Items, ct);
        }
        return (long)await writer.CompleteAsync(ct);
    });

    public static PartWrite Profiles(ProfileModel model) => new(ModelParts.Profiles, async (connection, version, ct) =>
    {
        await using var writer = await connection.BeginBinaryImportAsync(
            "COPY user_profiles (version, user_id, preferred_categories, preferred_tags, avg_price, interaction_count) FROM STDIN (FORMAT BINARY)", ct);
        foreach (var (userId, profile) in model.Users)
        {
            await writer.StartRowAsync(ct);
            await writer.WriteAsync(version, NpgsqlDbType.Bigint, ct);
            await writer.WriteAsync(userId, NpgsqlDbType.Bigint, ct);
            await writer.WriteAsync(JsonSerializer.Serialize(profile.Categories, s_json), NpgsqlDbType.Jsonb, ct);
            await writer.WriteAsync(JsonSerializer.Serialize(profile.Tags, s_json), NpgsqlDbType.Jsonb, ct);
            await writer.WriteNullableAsync(profile.AvgPrice, NpgsqlDbType.Numeric, ct);
            await writer.WriteAsync(profile.InteractionCount, NpgsqlDbType.Integer, ct);
        }
        return (long)await writer.CompleteAsync(ct);
    });

    private static async Task WriteListAsync(NpgsqlBinaryImporter writer, ScoredIds list, CancellationToken ct)
    {
        await writer.WriteAsync(list.Ids, NpgsqlDbType.Array | NpgsqlDbType.Bigint, ct);
        await writer.WriteAsync(list.Scores, NpgsqlDbType.Array | NpgsqlDbType.Real, ct);
    }

    // ---- Readers (one REPEATABLE READ snapshot) --------------------------------------------------------------

    /// <summary>
    /// Reads the current version of each part in <paramref name="parts"/> (those not yet published are absent),
    /// all from one database snapshot so a concurrent publish or cleanup cannot tear the read.
    /// </summary>
    public async Task<StoredModel> ReadAsync(IReadOnlyCollection<string> parts, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
        var versions = await ReadCurrentVersionsAsync(connection, transaction, cancellationToken);
        var model = new StoredModel { Versions = versions };
        foreach (var part in parts)
        {
            if (!versions.TryGetValue(part, out var version))
            {
                continue;
            }
            switch (part)
            {
                case ModelParts.Popularity:
                    model.Popularity = await ReadPopularityAsync(connection, version, cancellationToken);
                    break;
                case ModelParts.Trending:
                    model.Trending = await ReadTrendingAsync(connection, version, cancellationToken);
                    break;
                case ModelParts.ItemNeighbors:
                    model.ItemNeighbors = await ReadItemNeighborsAsync(connection, version, cancellationToken);
                    model.Tuning = await ReadTuningAsync(connection, transaction, version, cancellationToken);
                    break;
                case ModelParts.UserNeighbors:
                    model.UserNeighbors = await ReadUserNeighborsAsync(connection, version, cancellationToken);
                    break;
                case ModelParts.Profiles:
                    model.Profiles = await ReadProfilesAsync(connection, version, cancellationToken);
                    break;
            }
        }
        await transaction.CommitAsync(cancellationToken);
        return model;
    }

    private static async Task<PopularityModel> ReadPopularityAsync(NpgsqlConnection connection, long version, CancellationToken ct)
    {
        var lists = new Dictionary<Segment, ScoredIds>();
        await using var reader = await connection.BeginBinaryExportAsync(
            $"COPY (SELECT geo_id, gender, age_group, category, item_ids, scores FROM popular_items WHERE version = {version}) TO STDOUT (FORMAT BINARY)", ct);
        while (reader.StartRow() != -1)
        {
            int? geo = reader.ReadNullable<int>(NpgsqlDbType.Integer);
            var gender = reader.ReadNullableText();
            var age = reader.ReadNullableText();
            var category = reader.ReadNullableText();
            lists[new Segment(geo, gender, age, category)] = ReadList(reader);
        }
        return new PopularityModel(lists);
    }

    private static async Task<TrendingModel> ReadTrendingAsync(NpgsqlConnection connection, long version, CancellationToken ct)
    {
        var overall = ScoredIds.Empty;
        var byCategory = new Dictionary<string, ScoredIds>(StringComparer.Ordinal);
        await using var reader = await connection.BeginBinaryExportAsync(
            $"COPY (SELECT category, item_ids, scores FROM trending_items WHERE version = {version}) TO STDOUT (FORMAT BINARY)", ct);
        while (reader.StartRow() != -1)
        {
            var category = reader.ReadNullableText();
            var list = ReadList(reader);
            if (category is null)
            {
                overall = list;
            }
            else
            {
                byCategory[category] = list;
            }
        }
        return new TrendingModel(overall, byCategory);
    }

    private static async Task<ItemNeighborModel> ReadItemNeighborsAsync(NpgsqlConnection connection, long version, CancellationToken ct)
    {
        var collaborative = new Dictionary<long, ScoredIds>();
        var content = new Dictionary<long, ScoredIds>();
        await using var reader = await connection.BeginBinaryExportAsync(
            $"COPY (SELECT item_id, kind, neighbor_ids, scores FROM item_neighbors WHERE version = {version}) TO STDOUT (FORMAT BINARY)", ct);
        while (reader.StartRow() != -1)
        {
            var itemId = reader.Read<long>(NpgsqlDbType.Bigint);
            var kind = reader.Read<string>(NpgsqlDbType.Text);
            (kind == "content" ? content : collaborative)[itemId] = ReadList(reader);
        }
        return new ItemNeighborModel(collaborative, content);
    }

    private static async Task<ModelTuning> ReadTuningAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, long version, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand("SELECT details::text FROM model_versions WHERE version = $1", connection, transaction);
        command.Parameters.Add(new() { Value = version });
        return await command.ExecuteScalarAsync(ct) is string json && JsonSerializer.Deserialize<ModelTuning>(json, s_json) is { } tuning
            ? tuning
            : ModelTuning.Default;
    }

    private static async Task<UserNeighborModel> ReadUserNeighborsAsync(NpgsqlConnection connection, long version, CancellationToken ct)
    {
        var users = new Dictionary<long, UserNeighborhood>();
        await using var reader = await connection.BeginBinaryExportAsync(
            $"COPY (SELECT user_id, neighbor_ids, scores, item_ids, item_scores FROM user_neighbors WHERE version = {version}) TO STDOUT (FORMAT BINARY)", ct);
        while (reader.StartRow() != -1)
        {
            var userId = reader.Read<long>(NpgsqlDbType.Bigint);
            users[userId] = new UserNeighborhood(ReadList(reader), ReadList(reader));
        }
        return new UserNeighborModel(users);
    }

    private static async Task<ProfileModel> ReadProfilesAsync(NpgsqlConnection connection, long version, CancellationToken ct)
    {
        var users = new Dictionary<long, UserProfile>();
        await using var reader = await connection.BeginBinaryExportAsync(
            $"COPY (SELECT user_id, preferred_categories, preferred_tags, avg_price, interaction_count FROM user_profiles WHERE version = {version}) TO STDOUT (FORMAT BINARY)", ct);
        while (reader.StartRow() != -1)
        {
            var userId = reader.Read<long>(NpgsqlDbType.Bigint);
            var categories = JsonSerializer.Deserialize<Dictionary<string, float>>(reader.Read<string>(NpgsqlDbType.Jsonb), s_json) ?? [];
            var tags = JsonSerializer.Deserialize<Dictionary<string, float>>(reader.Read<string>(NpgsqlDbType.Jsonb), s_json) ?? [];
            var price = reader.ReadNullable<decimal>(NpgsqlDbType.Numeric);
            var count = reader.Read<int>(NpgsqlDbType.Integer);
            users[userId] = new UserProfile(categories, tags, price, count);
        }
        return new ProfileModel(users);
    }

    private static ScoredIds ReadList(NpgsqlBinaryExporter reader) =>
        new(reader.Read<long[]>(NpgsqlDbType.Array | NpgsqlDbType.Bigint), reader.Read<float[]>(NpgsqlDbType.Array | NpgsqlDbType.Real));

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

        foreach (var table in new[] { "popular_items", "trending_items", "item_neighbors", "user_neighbors", "user_profiles" })
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
public sealed class StoredModel
{
    public required IReadOnlyDictionary<string, long> Versions { get; init; }
    public PopularityModel? Popularity { get; set; }
    public TrendingModel? Trending { get; set; }
    public ItemNeighborModel? ItemNeighbors { get; set; }
    public UserNeighborModel? UserNeighbors { get; set; }
    public ProfileModel? Profiles { get; set; }

    /// <summary>What the build of the item neighbors chose; set with <see cref="ItemNeighbors"/>.</summary>
    public ModelTuning? Tuning { get; set; }
}
