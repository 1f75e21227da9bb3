using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using RecApp.Engine.Domain;
using RecApp.Engine.Model;
using RecApp.Data;
using RecApp.Data.Migrations;
using RecApp.Data.Source;

namespace RecApp.Data.Models;

/// <summary><c>profiles</c>: each user's weighted categories, tags and mean price (<c>user_profiles</c>).</summary>
public sealed class ProfilesPart() : ModelPart<ProfileModel>("profiles", "user_profiles")
{
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);

    protected override ProfileModel From(GlobalModel model) => model.Profiles;

    protected override ModelSnapshot With(ModelSnapshot snapshot, ProfileModel value) => snapshot with { Profiles = value };

    protected override async Task<long> WriteRowsAsync(NpgsqlConnection connection, long version, ProfileModel value, CancellationToken ct)
    {
        await using var writer = await connection.BeginBinaryImportAsync(
            "COPY user_profiles (version, user_id, preferred_categories, preferred_tags, avg_price, interaction_count) FROM STDIN (FORMAT BINARY)", ct);
        foreach (var (userId, profile) in value.Users)
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
    }

    protected override async Task<ProfileModel> ReadRowsAsync(NpgsqlConnection connection, long version, string? details, CancellationToken ct)
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
}
