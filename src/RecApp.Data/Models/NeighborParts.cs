using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using RecApp.Engine;
using RecApp.Engine.Model;
using RecApp.Data;
using RecApp.Data.Migrations;
using RecApp.Data.Source;

namespace RecApp.Data.Models;

/// <summary><c>item_neighbors</c>: each item's collaborative (kNN or EASE) and content neighbors (<c>item_neighbors</c>).</summary>
public sealed class ItemNeighborsPart() : ModelPart<ItemNeighborModel>("item_neighbors", "item_neighbors")
{
    private const string Content = "content";
    private const string Collaborative = "collaborative";

    protected override ItemNeighborModel From(GlobalModel model) => model.ItemNeighbors;

    protected override ModelSnapshot With(ModelSnapshot snapshot, ItemNeighborModel value) => snapshot with { ItemNeighbors = value };

    protected override async Task<long> WriteRowsAsync(NpgsqlConnection connection, long version, ItemNeighborModel value, CancellationToken ct)
    {
        await using var writer = await connection.BeginBinaryImportAsync(
            "COPY item_neighbors (version, item_id, kind, neighbor_ids, scores) FROM STDIN (FORMAT BINARY)", ct);
        foreach (var (kind, lists) in new[] { (Collaborative, value.Collaborative), (Content, value.Content) })
        {
            foreach (var (itemId, list) in lists)
            {
                await writer.StartRowAsync(ct);
                await writer.WriteAsync(version, NpgsqlDbType.Bigint, ct);
                await writer.WriteAsync(itemId, NpgsqlDbType.Bigint, ct);
                await writer.WriteAsync(kind, NpgsqlDbType.Text, ct);
                await writer.WriteScoredIdsAsync(list, ct);
            }
        }
        return (long)await writer.CompleteAsync(ct);
    }

    protected override async Task<ItemNeighborModel> ReadRowsAsync(NpgsqlConnection connection, long version, string? details, CancellationToken ct)
    {
        var collaborative = new Dictionary<long, ScoredIds>();
        var content = new Dictionary<long, ScoredIds>();
        await using var reader = await connection.BeginBinaryExportAsync(
            $"COPY (SELECT item_id, kind, neighbor_ids, scores FROM item_neighbors WHERE version = {version}) TO STDOUT (FORMAT BINARY)", ct);
        while (reader.StartRow() != -1)
        {
            var itemId = reader.Read<long>(NpgsqlDbType.Bigint);
            var kind = reader.Read<string>(NpgsqlDbType.Text);
            (kind == Content ? content : collaborative)[itemId] = reader.ReadScoredIds();
        }
        return new ItemNeighborModel(collaborative, content);
    }
}

/// <summary><c>user_neighbors</c>: each user's nearest users and the items they liked (<c>user_neighbors</c>).</summary>
public sealed class UserNeighborsPart() : ModelPart<UserNeighborModel>("user_neighbors", "user_neighbors")
{
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);

    /// <summary>The version's details: how large the flat layout is, so a load fills arrays made once.</summary>
    private sealed record Size(int Users, long Items);

    protected override UserNeighborModel From(GlobalModel model) => model.UserNeighbors;

    protected override string? DetailsOf(UserNeighborModel value) => JsonSerializer.Serialize(new Size(value.Count, value.ItemCount), s_json);

    protected override ModelSnapshot With(ModelSnapshot snapshot, UserNeighborModel value) => snapshot with { UserNeighbors = value };

    protected override async Task<long> WriteRowsAsync(NpgsqlConnection connection, long version, UserNeighborModel value, CancellationToken ct)
    {
        await using var writer = await connection.BeginBinaryImportAsync(
            "COPY user_neighbors (version, user_id, neighbor_ids, scores, item_ids, item_scores) FROM STDIN (FORMAT BINARY)", ct);
        foreach (var userId in value.UserIds)
        {
            await writer.StartRowAsync(ct);
            await writer.WriteAsync(version, NpgsqlDbType.Bigint, ct);
            await writer.WriteAsync(userId, NpgsqlDbType.Bigint, ct);
            await writer.WriteScoredIdsAsync(value.Neighbors(userId), ct);
            await writer.WriteScoredIdsAsync(value.Items(userId), ct);
        }
        return (long)await writer.CompleteAsync(ct);
    }

    protected override async Task<UserNeighborModel> ReadRowsAsync(NpgsqlConnection connection, long version, string? details, CancellationToken ct)
    {
        // Versions written before the size was recorded start small and grow.
        var size = details is null ? null : JsonSerializer.Deserialize<Size>(details, s_json);
        var users = new UserNeighborModel.Builder(size?.Users ?? 0, size?.Items ?? 0);
        // Only the candidates: serving never reads the neighbors themselves, and at 2M users they were 0.6 GB of each
        // API instance's heap. The table keeps them for inspection.
        await using var reader = await connection.BeginBinaryExportAsync(
            $"COPY (SELECT user_id, item_ids, item_scores FROM user_neighbors WHERE version = {version}) TO STDOUT (FORMAT BINARY)", ct);
        while (reader.StartRow() != -1)
        {
            var userId = reader.Read<long>(NpgsqlDbType.Bigint);
            var items = reader.ReadScoredIds();
            users.Add(userId, items.Ids, items.Scores);
        }
        return users.Build();
    }
}
