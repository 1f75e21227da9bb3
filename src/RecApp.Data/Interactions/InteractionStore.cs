using Npgsql;
using NpgsqlTypes;
using RecApp.Engine.Domain;

namespace RecApp.Data.Interactions;

/// <summary>An event to store, validated at the edge.</summary>
public readonly record struct NewInteraction(long UserId, long ItemId, InteractionType Type, float? Value, string? EventId, DateTime OccurredAt);

/// <summary>
/// The <c>interactions</c> table as the API uses it one request at a time: the durable write of new events (with the
/// <c>users</c> rows they need), and the small reads around it (new rows since an id, the most active users, counts).
/// The whole table for a build is read by <see cref="DatasetReader"/>; one user's history by <see cref="Users.UserReader"/>.
/// </summary>
public sealed class InteractionStore(NpgsqlDataSource dataSource)
{
    /// <summary>
    /// Stores <paramref name="events"/> in one transaction with a <c>users</c> row for each new user; an <c>event_id</c>
    /// already stored is a duplicate, not stored twice. synchronous_commit is forced on for the transaction, whatever the
    /// server's default: an acknowledgement promises the events survive a crash. Returns how many were stored.
    /// </summary>
    public async Task<int> WriteAsync(IReadOnlyList<NewInteraction> events, CommitGate gate, CancellationToken cancellationToken)
    {
        var userIds = events.Select(e => e.UserId).Distinct().ToArray();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var batch = new NpgsqlBatch(connection, transaction);
        batch.BatchCommands.Add(new NpgsqlBatchCommand("SET LOCAL synchronous_commit TO on"));
        var users = new NpgsqlBatchCommand("INSERT INTO users (id) SELECT unnest($1) ON CONFLICT (id) DO NOTHING");
        users.Parameters.Add(new NpgsqlParameter { Value = userIds, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint });
        batch.BatchCommands.Add(users);

        var insert = new NpgsqlBatchCommand("""
            INSERT INTO interactions (event_id, user_id, item_id, type, value, occurred_at)
            SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::smallint[], $5::real[], $6::timestamptz[])
            ON CONFLICT (event_id) DO NOTHING
            """);
        insert.Parameters.Add(new NpgsqlParameter { Value = events.Select(e => e.EventId).ToArray() });
        insert.Parameters.Add(new NpgsqlParameter { Value = events.Select(e => e.UserId).ToArray() });
        insert.Parameters.Add(new NpgsqlParameter { Value = events.Select(e => e.ItemId).ToArray() });
        insert.Parameters.Add(new NpgsqlParameter { Value = events.Select(e => (short)e.Type).ToArray() });
        insert.Parameters.Add(new NpgsqlParameter { Value = events.Select(e => e.Value).ToArray() });
        insert.Parameters.Add(new NpgsqlParameter { Value = events.Select(e => e.OccurredAt).ToArray() });
        batch.BatchCommands.Add(insert);
        await batch.ExecuteNonQueryAsync(cancellationToken);
        // From here the outcome is unknown if the connection fails: the commit may land with its answer lost.
        gate.Enter();
        await transaction.CommitAsync(cancellationToken);
        return checked((int)insert.RecordsAffected);
    }

    /// <summary>The newest row id (0 for an empty table).</summary>
    public async Task<long> NewestIdAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT coalesce(max(id), 0) FROM interactions");
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>The users of the rows after <paramref name="afterId"/> (at most <paramref name="limit"/> rows, by id), and the last id read.</summary>
    public async Task<(HashSet<long> Users, long LastId)> UsersSinceAsync(long afterId, int limit, CancellationToken cancellationToken)
    {
        var users = new HashSet<long>();
        var last = afterId;
        await using var command = dataSource.CreateCommand("SELECT id, user_id FROM interactions WHERE id > $1 ORDER BY id LIMIT $2");
        command.Parameters.Add(new NpgsqlParameter { Value = afterId });
        command.Parameters.Add(new NpgsqlParameter { Value = limit });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            last = reader.GetInt64(0);
            users.Add(reader.GetInt64(1));
        }
        return (users, last);
    }

    /// <summary>The users with the most events in the 30 days before <paramref name="asOf"/>, most active first.</summary>
    public async Task<List<long>> MostActiveUsersAsync(int count, DateTime asOf, CancellationToken cancellationToken)
    {
        var users = new List<long>(count);
        await using var command = dataSource.CreateCommand("""
            SELECT user_id FROM interactions
            WHERE occurred_at > $2 - interval '30 days'
            GROUP BY user_id ORDER BY count(*) DESC, user_id LIMIT $1
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = count });
        command.Parameters.Add(new NpgsqlParameter { Value = DateTime.SpecifyKind(asOf, DateTimeKind.Utc), NpgsqlDbType = NpgsqlDbType.TimestampTz });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            users.Add(reader.GetInt64(0));
        }
        return users;
    }

    /// <summary>How many events name the item, and from how many users.</summary>
    public async Task<(long Events, long Users)> CountForItemAsync(long itemId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT count(*), count(DISTINCT user_id) FROM interactions WHERE item_id = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = itemId });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    /// <summary>How many events the user has in <c>recdb</c>.</summary>
    public async Task<long> CountForUserAsync(long userId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT count(*) FROM interactions WHERE user_id = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = userId });
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }
}
