using System.Text.Json;
using System.Text.Json.Serialization;
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
        var json = new JsonSerializerOptions(s_json) { Converters = { new PackedNameWeightsReader() } };
        var users = new Dictionary<long, UserProfile>();
        await using var reader = await connection.BeginBinaryExportAsync(
            $"COPY (SELECT user_id, preferred_categories, preferred_tags, avg_price, interaction_count FROM user_profiles WHERE version = {version}) TO STDOUT (FORMAT BINARY)", ct);
        while (reader.StartRow() != -1)
        {
            var userId = reader.Read<long>(NpgsqlDbType.Bigint);
            var categories = JsonSerializer.Deserialize<PackedNameWeights>(reader.Read<string>(NpgsqlDbType.Jsonb), json) ?? PackedNameWeights.Empty;
            var tags = JsonSerializer.Deserialize<PackedNameWeights>(reader.Read<string>(NpgsqlDbType.Jsonb), json) ?? PackedNameWeights.Empty;
            var price = reader.ReadNullable<decimal>(NpgsqlDbType.Numeric);
            var count = reader.Read<int>(NpgsqlDbType.Integer);
            users[userId] = new UserProfile(categories, tags, price, count);
        }
        return new ProfileModel(users);
    }

    /// <summary>
    /// Reads a <c>{"name": weight}</c> object into <see cref="PackedNameWeights"/>, taking each name from a table shared
    /// by every row of one read: one string per distinct category or tag for the whole model, not one per user. At S
    /// (50,000 users, 40 distinct names) the two save 714,000 strings and 100,000 dictionaries, about 55 MB of the API's
    /// heap (docs/PERFORMANCE.md, memory).
    /// </summary>
    private sealed class PackedNameWeightsReader : JsonConverter<PackedNameWeights>
    {
        private const int MaxStackName = 256;
        private readonly HashSet<string> _names = new(StringComparer.Ordinal);
        private readonly List<string> _rowNames = [];
        private readonly List<float> _rowWeights = [];

        public override PackedNameWeights Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                throw new JsonException("A profile's weights must be a JSON object.");
            }
            _rowNames.Clear();
            _rowWeights.Clear();
            var lookup = _names.GetAlternateLookup<ReadOnlySpan<char>>();
            Span<char> buffer = stackalloc char[MaxStackName];
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var length = reader.HasValueSequence ? checked((int)reader.ValueSequence.Length) : reader.ValueSpan.Length;
                var name = length <= MaxStackName ? buffer[..reader.CopyString(buffer)] : reader.GetString().AsSpan();
                if (!lookup.TryGetValue(name, out var shared))
                {
                    shared = name.ToString();
                    _names.Add(shared);
                }
                reader.Read();
                _rowNames.Add(shared); // jsonb keeps one value per key: no name repeats within a row
                _rowWeights.Add(reader.GetSingle());
            }
            return _rowNames.Count == 0 ? PackedNameWeights.Empty : new PackedNameWeights([.. _rowNames], [.. _rowWeights]);
        }

        public override void Write(Utf8JsonWriter writer, PackedNameWeights value, JsonSerializerOptions options) =>
            throw new NotSupportedException("Only used to read.");
    }
}
