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

    /// <summary>A batch of one statement about one user, <paramref name="sql"/> with the user's id as <c>$1</c>.</summary>
    public static NpgsqlBatch ForUser(NpgsqlDataSource dataSource, string sql, long userId)
    {
        var batch = dataSource.CreateBatch();
        var command = new NpgsqlBatchCommand(sql);
        command.Parameters.Add(new() { Value = userId });
        batch.BatchCommands.Add(command);
        return batch;
    }

    /// <summary>
    /// Runs a batch of two statements for one user — the <paramref name="recent"/> newest events (item_id, type, value,
    /// occurred_at), the demographics row (gender, age_group, geo_id) — and reads them. The items the user ever touched
    /// are those events' items when fewer than <paramref name="recent"/> came back (there is no older one); only a user
    /// with more events costs a second round trip, <paramref name="seenItems"/> (one column of distinct item ids): at S
    /// with the default 1,000 recent events, 1 of 50,000 users. Every miss ran that third statement before.
    /// Events whose type <paramref name="readType"/> does not understand (null) are skipped, their items still seen.
    /// </summary>
    public static async Task<StoredUser> ReadOneAsync(
        NpgsqlBatch batch, long userId, int recent, Func<NpgsqlDataReader, InteractionType?> readType,
        Func<NpgsqlBatch> seenItems, CancellationToken cancellationToken)
    {
        var events = new List<HistoryEvent>();
        var items = new HashSet<long>();
        var rows = 0;
        UserDemographics? demographics = null;
        await using (var reader = await batch.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                rows++;
                var itemId = reader.GetInt64(0);
                items.Add(itemId);
                if (readType(reader) is { } type)
                {
                    events.Add(new HistoryEvent(itemId, type, reader.IsDBNull(2) ? null : reader.GetFloat(2), reader.GetDateTime(3)));
                }
            }
            if (await reader.NextResultAsync(cancellationToken) && await reader.ReadAsync(cancellationToken))
            {
                demographics = new UserDemographics(userId,
                    reader.IsDBNull(0) ? null : reader.GetString(0),
                    reader.IsDBNull(1) ? null : reader.GetString(1),
                    reader.IsDBNull(2) ? null : reader.GetInt32(2));
            }
        }
        if (rows >= recent)
        {
            // Older events may exist. One written since the first read is in this set only: the seen items cover both.
            await using var seen = seenItems();
            await using var reader = await seen.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                items.Add(reader.GetInt64(0));
            }
        }
        return new StoredUser(events, items, demographics);
    }
}
