using Npgsql;
using NpgsqlTypes;
using RecApp.Engine;
using RecApp.Engine.Domain;
using RecApp.Engine.Model;
using RecApp.Data;
using RecApp.Data.Migrations;
using RecApp.Data.Source;

namespace RecApp.Data.Models;

/// <summary><c>popularity</c>: popular lists per demographic segment (<c>popular_items</c>).</summary>
public sealed class PopularityPart() : ModelPart<PopularityModel>("popularity", "popular_items")
{
    protected override PopularityModel From(GlobalModel model) => model.Popularity;

    protected override ModelSnapshot With(ModelSnapshot snapshot, PopularityModel value) => snapshot with { Popularity = value };

    protected override async Task<long> WriteRowsAsync(NpgsqlConnection connection, long version, PopularityModel value, CancellationToken ct)
    {
        await using var writer = await connection.BeginBinaryImportAsync(
            "COPY popular_items (version, geo_id, gender, age_group, category, item_ids, scores) FROM STDIN (FORMAT BINARY)", ct);
        foreach (var (segment, list) in value.Lists)
        {
            await writer.StartRowAsync(ct);
            await writer.WriteAsync(version, NpgsqlDbType.Bigint, ct);
            await writer.WriteNullableAsync(segment.GeoId, NpgsqlDbType.Integer, ct);
            await writer.WriteNullableAsync(segment.Gender, NpgsqlDbType.Text, ct);
            await writer.WriteNullableAsync(segment.AgeGroup, NpgsqlDbType.Text, ct);
            await writer.WriteNullableAsync(segment.Category, NpgsqlDbType.Text, ct);
            await writer.WriteScoredIdsAsync(list, ct);
        }
        return (long)await writer.CompleteAsync(ct);
    }

    protected override async Task<PopularityModel> ReadRowsAsync(NpgsqlConnection connection, long version, string? details, CancellationToken ct)
    {
        var lists = new Dictionary<Demographics, ScoredIds>();
        await using var reader = await connection.BeginBinaryExportAsync(
            $"COPY (SELECT geo_id, gender, age_group, category, item_ids, scores FROM popular_items WHERE version = {version}) TO STDOUT (FORMAT BINARY)", ct);
        while (reader.StartRow() != -1)
        {
            int? geo = reader.ReadNullable<int>(NpgsqlDbType.Integer);
            var gender = reader.ReadNullableText();
            var age = reader.ReadNullableText();
            var category = reader.ReadNullableText();
            lists[new Demographics(GeoId: geo, Gender: gender, AgeGroup: age, Category: category)] = reader.ReadScoredIds();
        }
        return new PopularityModel(lists);
    }
}

/// <summary><c>trending</c>: what rose in the last days, overall (category NULL) and per category (<c>trending_items</c>).</summary>
public sealed class TrendingPart() : ModelPart<TrendingModel>("trending", "trending_items")
{
    protected override TrendingModel From(GlobalModel model) => model.Trending;

    protected override ModelSnapshot With(ModelSnapshot snapshot, TrendingModel value) => snapshot with { Trending = value };

    protected override async Task<long> WriteRowsAsync(NpgsqlConnection connection, long version, TrendingModel value, CancellationToken ct)
    {
        await using var writer = await connection.BeginBinaryImportAsync(
            "COPY trending_items (version, category, item_ids, scores) FROM STDIN (FORMAT BINARY)", ct);
        foreach (var (category, list) in value.ByCategory.Prepend(new(null!, value.Overall)))
        {
            await writer.StartRowAsync(ct);
            await writer.WriteAsync(version, NpgsqlDbType.Bigint, ct);
            await writer.WriteNullableAsync(category, NpgsqlDbType.Text, ct);
            await writer.WriteScoredIdsAsync(list, ct);
        }
        return (long)await writer.CompleteAsync(ct);
    }

    protected override async Task<TrendingModel> ReadRowsAsync(NpgsqlConnection connection, long version, string? details, CancellationToken ct)
    {
        var overall = ScoredIds.Empty;
        var byCategory = new Dictionary<string, ScoredIds>(StringComparer.Ordinal);
        await using var reader = await connection.BeginBinaryExportAsync(
            $"COPY (SELECT category, item_ids, scores FROM trending_items WHERE version = {version}) TO STDOUT (FORMAT BINARY)", ct);
        while (reader.StartRow() != -1)
        {
            var category = reader.ReadNullableText();
            var list = reader.ReadScoredIds();
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
}
