using Npgsql;
using NpgsqlTypes;
using RecApp.Engine.Domain;

namespace RecApp.Data.Catalog;

/// <summary>An item as stored, with when it last changed.</summary>
public sealed record StoredItem(CatalogItem Item, DateTime UpdatedAt);

/// <summary>A user's demographics as stored.</summary>
public sealed record StoredUserRow(long Id, string? Gender, string? AgeGroup, int? GeoId, DateTime CreatedAt, DateTime UpdatedAt);

/// <summary>
/// Where the serving catalog is read from: <c>recdb</c>'s <c>items</c> (<see cref="CatalogStore"/>), or the shop's
/// catalog through its mapping (<see cref="Source.SourceDatabase"/>).
/// </summary>
public interface ICatalogReader
{
    /// <summary>One item and when it last changed, or null.</summary>
    Task<StoredItem?> ReadItemAsync(long id, CancellationToken cancellationToken);

    /// <summary>
    /// Items updated at or after <paramref name="since"/> (all when null; none when nothing changed since) and the
    /// catalog's newest update stamp (the next call's <paramref name="since"/>), from one connection.
    /// </summary>
    Task<(List<CatalogItem> Items, DateTime? Watermark)> ReadChangesAsync(DateTime? since, CancellationToken cancellationToken);

    /// <summary>The ids among <paramref name="itemIds"/> the catalog does not have.</summary>
    Task<long[]> MissingItemsAsync(long[] itemIds, CancellationToken cancellationToken);
}

/// <summary>
/// The <c>items</c> and <c>users</c> rows the API writes and reads one at a time. Each write is one statement
/// (<c>INSERT … ON CONFLICT (id) DO UPDATE … RETURNING</c>), so two requests creating the same id at once both succeed
/// instead of one hitting the primary key. PostgreSQL stamps <c>updated_at</c>: the API's catalog poll compares it with
/// database time, so a host's clock cannot make a change invisible. <c>clock_timestamp()</c> rather than <c>now()</c>
/// (the transaction's start): evaluated once the row lock is held, so of two concurrent writes of one row the one
/// stored last carries the later time. Commits with synchronous_commit on: an answer means the row is on disk.
/// </summary>
public sealed class CatalogStore(NpgsqlDataSource dataSource) : ICatalogReader
{
    /// <summary>The columns of an item row, in the order <see cref="ReadItem"/> reads them (the one place that lists them).</summary>
    internal const string ItemColumns = "id, title, category, tags, price, geo_id, active, created_at, updated_at";

    public async Task<StoredItem?> ReadItemAsync(long id, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"SELECT {ItemColumns} FROM items WHERE id = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = id });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadItem(reader) : null;
    }

    public async Task<(List<CatalogItem> Items, DateTime? Watermark)> ReadChangesAsync(DateTime? since, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        DateTime? watermark;
        await using (var command = new NpgsqlCommand("SELECT max(updated_at) FROM items", connection))
        {
            watermark = await command.ExecuteScalarAsync(cancellationToken) is DateTime at ? at : null;
        }
        if (since is not null && watermark is not null && watermark <= since)
        {
            return ([], watermark);
        }
        return (await ReadItemsAsync(connection, since, cancellationToken), watermark);
    }

    public async Task<long[]> MissingItemsAsync(long[] itemIds, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT array_agg(w.id) FROM unnest($1::bigint[]) AS w(id) WHERE NOT EXISTS (SELECT 1 FROM items i WHERE i.id = w.id)");
        command.Parameters.Add(new NpgsqlParameter { Value = itemIds });
        return await command.ExecuteScalarAsync(cancellationToken) as long[] ?? [];
    }

    /// <summary>Catalog rows, all of them or those updated at or after <paramref name="updatedSince"/>, by id (binary COPY).</summary>
    internal static async Task<List<CatalogItem>> ReadItemsAsync(NpgsqlConnection connection, DateTime? updatedSince, CancellationToken cancellationToken)
    {
        var where = updatedSince is { } since ? $" WHERE updated_at >= '{since:O}'::timestamptz" : "";
        var items = new List<CatalogItem>();
        await using var reader = await connection.BeginBinaryExportAsync(
            $"COPY (SELECT id, title, category, tags, price, geo_id, active, created_at FROM items{where} ORDER BY id) TO STDOUT (FORMAT BINARY)",
            cancellationToken);
        while (reader.StartRow() != -1)
        {
            var id = reader.Read<long>(NpgsqlDbType.Bigint);
            var title = reader.Read<string>(NpgsqlDbType.Text);
            var category = reader.Read<string>(NpgsqlDbType.Text);
            var tags = reader.Read<string[]>(NpgsqlDbType.Array | NpgsqlDbType.Text);
            var price = reader.Read<decimal>(NpgsqlDbType.Numeric);
            int? geo = reader.ReadNullable<int>(NpgsqlDbType.Integer);
            var active = reader.Read<bool>(NpgsqlDbType.Boolean);
            var created = reader.Read<DateTime>(NpgsqlDbType.TimestampTz);
            items.Add(new CatalogItem(id, title, category, tags, price, geo, active, created));
        }
        return items;
    }

    /// <summary>The stored item, and whether this call created it (<c>xmax = 0</c>: the row version is a fresh insert).</summary>
    public async Task<(StoredItem Item, bool Created)> UpsertItemAsync(CatalogItem item, CommitGate gate, CancellationToken cancellationToken)
    {
        var (stored, created) = await WriteAsync($"""
            INSERT INTO items (id, title, category, tags, price, geo_id, active, created_at, updated_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, clock_timestamp(), clock_timestamp())
            ON CONFLICT (id) DO UPDATE SET title = EXCLUDED.title, category = EXCLUDED.category, tags = EXCLUDED.tags,
                price = EXCLUDED.price, geo_id = EXCLUDED.geo_id, active = EXCLUDED.active, updated_at = clock_timestamp()
            RETURNING {ItemColumns}, xmax = 0
            """,
            [item.Id, item.Title, item.Category, item.Tags, item.Price, Nullable(item.GeoId, NpgsqlDbType.Integer), item.Active],
            ReadItem, gate, cancellationToken);
        return (stored!, created);
    }

    /// <summary>Null when the item does not exist.</summary>
    public async Task<StoredItem?> DeactivateItemAsync(long id, CommitGate gate, CancellationToken cancellationToken)
    {
        var (item, _) = await WriteAsync(
            $"UPDATE items SET active = false, updated_at = clock_timestamp() WHERE id = $1 RETURNING {ItemColumns}, false",
            [id], ReadItem, gate, cancellationToken);
        return item;
    }

    public async Task<(StoredUserRow User, bool Created)> UpsertUserAsync(
        long id, string? gender, string? ageGroup, int? geoId, CommitGate gate, CancellationToken cancellationToken)
    {
        var (user, created) = await WriteAsync("""
            INSERT INTO users (id, gender, age_group, geo_id, created_at, updated_at)
            VALUES ($1, $2, $3, $4, clock_timestamp(), clock_timestamp())
            ON CONFLICT (id) DO UPDATE SET gender = EXCLUDED.gender, age_group = EXCLUDED.age_group,
                geo_id = EXCLUDED.geo_id, updated_at = clock_timestamp()
            RETURNING id, gender, age_group, geo_id, created_at, updated_at, xmax = 0
            """,
            [id, Nullable(gender, NpgsqlDbType.Text), Nullable(ageGroup, NpgsqlDbType.Text), Nullable(geoId, NpgsqlDbType.Integer)],
            reader => new StoredUserRow(
                reader.GetInt64(0), NullableString(reader, 1), NullableString(reader, 2),
                reader.IsDBNull(3) ? null : reader.GetInt32(3), reader.GetDateTime(4), reader.GetDateTime(5)),
            gate, cancellationToken);
        return (user!, created);
    }

    private async Task<(T? Row, bool Created)> WriteAsync<T>(
        string sql, object[] values, Func<NpgsqlDataReader, T> read, CommitGate gate, CancellationToken cancellationToken)
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
    }

    /// <summary>An item row in <see cref="ItemColumns"/> order.</summary>
    internal static StoredItem ReadItem(NpgsqlDataReader reader) => new(
        new CatalogItem(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetFieldValue<string[]>(3), reader.GetDecimal(4),
            reader.IsDBNull(5) ? null : reader.GetInt32(5), reader.GetBoolean(6), reader.GetDateTime(7)),
        reader.GetDateTime(8));

    private static string? NullableString(NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    private static NpgsqlParameter Nullable(object? value, NpgsqlDbType type) => new() { Value = value ?? DBNull.Value, NpgsqlDbType = type };
}
