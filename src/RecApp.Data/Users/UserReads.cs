using Npgsql;
using NpgsqlTypes;
using RecApp.Engine.Domain;
using RecApp.Engine.Embeddings;
using RecApp.Data.Models;
using RecApp.Data.Migrations;
using RecApp.Data.Source;

namespace RecApp.Data.Users;

/// <summary>One user as a database has them: the newest events, every item ever touched, the demographics row (or null).</summary>
public sealed record StoredUser(IReadOnlyList<HistoryEvent> Recent, IReadOnlySet<long> Seen, UserDemographics? Demographics);

/// <summary>
/// The user reads RecApp's database and a source database answer alike (they differ only in the SQL and in how an
/// event's type is stored), so both are read here once.
/// </summary>
internal static class UserReads
{
    /// <summary>
    /// The one precedence rule for demographics: per field, the shop's non-null value wins (it owns its customers);
    /// RecApp's own <c>users</c> row (<c>PUT /users</c>) fills what the shop leaves unknown, and covers users the shop
    /// does not have.
    /// </summary>
    public static UserDemographics? Combine(UserDemographics? shop, UserDemographics? own) =>
        shop is null ? own
        : own is null ? shop
        : new UserDemographics(shop.Id, shop.Gender ?? own.Gender, shop.AgeGroup ?? own.AgeGroup, shop.GeoId ?? own.GeoId);

    /// <summary>Every user's demographics from <paramref name="query"/> (columns id, gender, age_group, geo_id), by binary COPY.</summary>
    public static async Task<List<UserDemographics>> ReadAllAsync(NpgsqlConnection connection, string query, CancellationToken cancellationToken)
    {
        var users = new List<UserDemographics>();
        await using var reader = await connection.BeginBinaryExportAsync($"COPY ({query}) TO STDOUT (FORMAT BINARY)", cancellationToken);
        while (reader.StartRow() != -1)
        {
            var id = reader.Read<long>(NpgsqlDbType.Bigint);
            var gender = reader.ReadNullableText();
            var age = reader.ReadNullableText();
            int? geo = reader.ReadNullable<int>(NpgsqlDbType.Integer);
            users.Add(new UserDemographics(id, gender, age, geo));
        }
        return users;
    }

    /// <summary>
    /// Runs a batch of three statements for one user — the newest events (item_id, type, value, occurred_at), the distinct
    /// item ids, the demographics row (gender, age_group, geo_id) — and reads them. Events whose type
    /// <paramref name="readType"/> does not understand (null) are skipped. An event written between the statements is in
    /// one list and not the other: the seen items cover both.
    /// </summary>
    public static async Task<StoredUser> ReadOneAsync(
        NpgsqlBatch batch, long userId, Func<NpgsqlDataReader, InteractionType?> readType, CancellationToken cancellationToken)
    {
        var events = new List<HistoryEvent>();
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            if (readType(reader) is { } type)
            {
                events.Add(new HistoryEvent(reader.GetInt64(0), type, reader.IsDBNull(2) ? null : reader.GetFloat(2), reader.GetDateTime(3)));
            }
        }
        var items = new HashSet<long>();
        if (await reader.NextResultAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                items.Add(reader.GetInt64(0));
            }
        }
        UserDemographics? demographics = null;
        if (await reader.NextResultAsync(cancellationToken) && await reader.ReadAsync(cancellationToken))
        {
            demographics = new UserDemographics(userId,
                reader.IsDBNull(0) ? null : reader.GetString(0),
                reader.IsDBNull(1) ? null : reader.GetString(1),
                reader.IsDBNull(2) ? null : reader.GetInt32(2));
        }
        items.UnionWith(events.Select(e => e.ItemId));
        return new StoredUser(events, items, demographics);
    }
}
