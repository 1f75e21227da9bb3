using Npgsql;
using NpgsqlTypes;

namespace RecApp.Api.Catalog;

/// <summary>
/// Item and user rows written in one statement each (<c>INSERT … ON CONFLICT (id) DO UPDATE … RETURNING</c>), so
/// two requests creating the same id at once both succeed instead of one hitting the primary key. PostgreSQL stamps
/// <c>updated_at</c>: the engine's catalog poll compares it with database time, so an API host's clock cannot make a
/// change invisible to it. <c>clock_timestamp()</c> rather than <c>now()</c> (the transaction's start): evaluated once
/// the row lock is held, so of two concurrent writes of one row the one stored last carries the later time.
/// Commits with synchronous_commit on: an answer means the row is on disk.
/// </summary>
public sealed class CatalogWriter(NpgsqlDataSource dataSource, DatabaseWrites writes)
{
    private const string ItemColumns = "id, title, category, tags, price, geo_id, active, created_at, updated_at";

    /// <summary>The stored item, and whether this call created it (<c>xmax = 0</c>: the row version is a fresh insert).</summary>
    public async Task<(ItemResponse Item, bool Created)> UpsertItemAsync(
        long id, string title, string category, string[] tags, decimal price, int? geoId, bool active)
    {
        var (item, created) = await ExecuteAsync($"""
            INSERT INTO items (id, title, category, tags, price, geo_id, active, created_at, updated_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, clock_timestamp(), clock_timestamp())
            ON CONFLICT (id) DO UPDATE SET title = EXCLUDED.title, category = EXCLUDED.category, tags = EXCLUDED.tags,
                price = EXCLUDED.price, geo_id = EXCLUDED.geo_id, active = EXCLUDED.active, updated_at = clock_timestamp()
            RETURNING {ItemColumns}, xmax = 0
            """,
            [id, title, category, tags, price, Nullable(geoId, NpgsqlDbType.Integer), active],
            ReadItem);
        return (item!, created);
    }

    /// <summary>Null when the item does not exist.</summary>
    public async Task<ItemResponse?> DeactivateItemAsync(long id)
    {
        var (item, _) = await ExecuteAsync(
            $"UPDATE items SET active = false, updated_at = clock_timestamp() WHERE id = $1 RETURNING {ItemColumns}, false",
            [id], ReadItem);
        return item;
    }

    public async Task<(UserResponse User, bool Created)> UpsertUserAsync(long id, string? gender, string? ageGroup, int? geoId)
    {
        var (user, created) = await ExecuteAsync("""
            INSERT INTO users (id, gender, age_group, geo_id, created_at, updated_at)
            VALUES ($1, $2, $3, $4, clock_timestamp(), clock_timestamp())
            ON CONFLICT (id) DO UPDATE SET gender = EXCLUDED.gender, age_group = EXCLUDED.age_group,
                geo_id = EXCLUDED.geo_id, updated_at = clock_timestamp()
            RETURNING id, gender, age_group, geo_id, created_at, updated_at, xmax = 0
            """,
            [id, Nullable(gender, NpgsqlDbType.Text), Nullable(ageGroup, NpgsqlDbType.Text), Nullable(geoId, NpgsqlDbType.Integer)],
            reader => new UserResponse(
                reader.GetInt64(0), NullableString(reader, 1), NullableString(reader, 2),
                reader.IsDBNull(3) ? null : reader.GetInt32(3), reader.GetDateTime(4), reader.GetDateTime(5)));
        return (user!, created);
    }

    // Not the request's token: once the write is under way, a client hanging up must not leave it half-known.
    private Task<(T? Row, bool Created)> ExecuteAsync<T>(string sql, object[] values, Func<NpgsqlDataReader, T> read) =>
        writes.WithinTimeoutAsync(async (gate, cancellationToken) =>
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await using var batch = new NpgsqlBatch(connection, transaction);
            batch.BatchCommands.Add(new NpgsqlBatchCommand("SET LOCAL synchronous_commit TO on"));
            var write = new NpgsqlBatchCommand(sql);
            foreach (var value in values)
            {
                write.Parameters.Add(value as NpgsqlParameter ?? new NpgsqlParameter { Value = value });
            }
            batch.BatchCommands.Add(write);

            T? row = default;
            var created = false;
            await using (var reader = await batch.ExecuteReaderAsync(cancellationToken))
            {
                if (await reader.ReadAsync(cancellationToken))
                {
                    row = read(reader);
                    created = reader.GetBoolean(reader.FieldCount - 1);
                }
            }
            gate.Enter();
            await transaction.CommitAsync(cancellationToken);
            return (row, created);
        });

    private static ItemResponse ReadItem(NpgsqlDataReader reader) => new(
        reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetFieldValue<string[]>(3), reader.GetDecimal(4),
        reader.IsDBNull(5) ? null : reader.GetInt32(5), reader.GetBoolean(6), reader.GetDateTime(7), reader.GetDateTime(8));

    private static string? NullableString(NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    private static NpgsqlParameter Nullable(object? value, NpgsqlDbType type) => new() { Value = value ?? DBNull.Value, NpgsqlDbType = type };
}
