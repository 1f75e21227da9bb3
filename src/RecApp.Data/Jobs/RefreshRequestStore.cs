using Npgsql;

namespace RecApp.Data.Jobs;

/// <summary>A job asked for through <c>refresh_requests</c>.</summary>
public sealed record RefreshRequest(long Id, string Job);

/// <summary>
/// On-demand refreshes: the API inserts rows into <c>refresh_requests</c> and, in the same transaction, sends NOTIFY on
/// <see cref="Channel"/>, so the Refresher is woken only for committed requests; the table is the source of truth
/// (requests made while no Refresher listened are still found).
/// </summary>
public sealed class RefreshRequestStore(NpgsqlDataSource dataSource)
{
    /// <summary>The PostgreSQL NOTIFY channel that wakes the Refresher (payload: the job name).</summary>
    public const string Channel = "recapp_refresh";

    /// <summary>Queues one request per job, durably, and notifies the Refresher; returns the requests.</summary>
    public async Task<List<RefreshRequest>> RequestAsync(IReadOnlyList<string> jobs, string requestedBy, CommitGate gate, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var durable = new NpgsqlCommand("SET LOCAL synchronous_commit TO on", connection, transaction))
        {
            await durable.ExecuteNonQueryAsync(cancellationToken);
        }
        var queued = new List<RefreshRequest>(jobs.Count);
        foreach (var job in jobs)
        {
            await using var command = new NpgsqlCommand(
                """
                WITH queued AS (INSERT INTO refresh_requests (job, requested_by) VALUES ($1, $3) RETURNING id)
                SELECT id FROM queued, pg_notify($2, $1)
                """,
                connection, transaction);
            command.Parameters.Add(new NpgsqlParameter { Value = job });
            command.Parameters.Add(new NpgsqlParameter { Value = Channel });
            command.Parameters.Add(new NpgsqlParameter { Value = requestedBy });
            queued.Add(new RefreshRequest((long)(await command.ExecuteScalarAsync(cancellationToken))!, job));
        }
        gate.Enter();
        await transaction.CommitAsync(cancellationToken);
        return queued;
    }

    public async Task<IReadOnlyList<RefreshRequest>> ReadPendingAsync(CancellationToken cancellationToken)
    {
        var pending = new List<RefreshRequest>();
        await using var command = dataSource.CreateCommand("SELECT id, job FROM refresh_requests WHERE handled_at IS NULL ORDER BY id");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            pending.Add(new RefreshRequest(reader.GetInt64(0), reader.GetString(1)));
        }
        return pending;
    }

    public async Task MarkHandledAsync(IEnumerable<long> ids, CancellationToken cancellationToken)
    {
        var array = ids.ToArray();
        if (array.Length == 0)
        {
            return;
        }
        await using var command = dataSource.CreateCommand("UPDATE refresh_requests SET handled_at = now() WHERE id = ANY($1)");
        command.Parameters.Add(new() { Value = array });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>A connection of its own that listens on <see cref="Channel"/> (the caller waits on it and disposes it).</summary>
    public async Task<NpgsqlConnection> ListenAsync(CancellationToken cancellationToken)
    {
        var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            await using var listen = new NpgsqlCommand($"LISTEN {Channel}", connection);
            await listen.ExecuteNonQueryAsync(cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }
}
