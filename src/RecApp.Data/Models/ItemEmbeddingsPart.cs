using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using RecApp.Engine.Domain;
using RecApp.Engine.Model;
using RecApp.Engine.Embeddings;
using RecApp.Data.Migrations;
using RecApp.Data.Source;

namespace RecApp.Data.Models;

/// <summary>
/// <c>item_embeddings</c>: one iALS vector per item (<c>item_embeddings</c>, a <c>real[]</c> per row); the settings they
/// were fitted with (fold-in needs λ, ν and α) are the version's details.
/// </summary>
public sealed class ItemEmbeddingsPart() : ModelPart<ItemEmbeddingIndex>("item_embeddings", "item_embeddings")
{
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);

    protected override ItemEmbeddingIndex From(GlobalModel model) => model.Embeddings;

    protected override ModelSnapshot With(ModelSnapshot snapshot, ItemEmbeddingIndex value) => snapshot with { Embeddings = value };

    protected override string? DetailsOf(ItemEmbeddingIndex value) =>
        value.Vectors is { } vectors ? JsonSerializer.Serialize(vectors.Settings, s_json) : null;

    protected override async Task<long> WriteRowsAsync(NpgsqlConnection connection, long version, ItemEmbeddingIndex value, CancellationToken ct)
    {
        if (value.Vectors is not { } vectors)
        {
            return 0;
        }
        await using var writer = await connection.BeginBinaryImportAsync(
            "COPY item_embeddings (version, item_id, vector) FROM STDIN (FORMAT BINARY)", ct);
        for (var i = 0; i < value.Count; i++)
        {
            await writer.StartRowAsync(ct);
            await writer.WriteAsync(version, NpgsqlDbType.Bigint, ct);
            await writer.WriteAsync(value.ItemIds[i], NpgsqlDbType.Bigint, ct);
            await writer.WriteAsync(vectors.Vector(i).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Real, ct);
        }
        return (long)await writer.CompleteAsync(ct);
    }

    protected override async Task<ItemEmbeddingIndex> ReadRowsAsync(NpgsqlConnection connection, long version, string? details, CancellationToken ct)
    {
        if (details is null || JsonSerializer.Deserialize<ImplicitAlsSettings>(details, s_json) is not { } settings)
        {
            return ItemEmbeddingIndex.Empty;
        }
        var ids = new List<long>();
        var values = new List<float>();
        await using (var reader = await connection.BeginBinaryExportAsync(
            $"COPY (SELECT item_id, vector FROM item_embeddings WHERE version = {version} ORDER BY item_id) TO STDOUT (FORMAT BINARY)", ct))
        {
            while (reader.StartRow() != -1)
            {
                ids.Add(reader.Read<long>(NpgsqlDbType.Bigint));
                var vector = reader.Read<float[]>(NpgsqlDbType.Array | NpgsqlDbType.Real);
                if (vector.Length != settings.Factors)
                {
                    throw new InvalidDataException($"item_embeddings version {version}: a vector of {vector.Length} values, expected {settings.Factors}.");
                }
                values.AddRange(vector);
            }
        }
        return ItemEmbeddingIndex.Create([.. ids], [.. values], settings);
    }
}
