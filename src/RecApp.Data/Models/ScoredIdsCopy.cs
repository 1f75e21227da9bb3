using Npgsql;
using NpgsqlTypes;
using RecApp.Engine;
using RecApp.Engine.Model;
using RecApp.Engine.Embeddings;
using RecApp.Data;
using RecApp.Data.Migrations;
using RecApp.Data.Source;

namespace RecApp.Data.Models;

/// <summary>A <see cref="ScoredIds"/> as two array columns (<c>bigint[]</c> ids, <c>real[]</c> scores) in binary COPY.</summary>
internal static class ScoredIdsCopy
{
    public static async Task WriteScoredIdsAsync(this NpgsqlBinaryImporter writer, ScoredIds list, CancellationToken ct)
    {
        await writer.WriteAsync(list.Ids, NpgsqlDbType.Array | NpgsqlDbType.Bigint, ct);
        await writer.WriteAsync(list.Scores, NpgsqlDbType.Array | NpgsqlDbType.Real, ct);
    }

    public static ScoredIds ReadScoredIds(this NpgsqlBinaryExporter reader) =>
        new(reader.Read<long[]>(NpgsqlDbType.Array | NpgsqlDbType.Bigint), reader.Read<float[]>(NpgsqlDbType.Array | NpgsqlDbType.Real));
}
