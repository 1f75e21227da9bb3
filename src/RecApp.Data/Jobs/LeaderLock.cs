using Npgsql;

namespace RecApp.Data.Jobs;

/// <summary>
/// The Refreshers' leadership as PostgreSQL holds it: a session advisory lock on a dedicated connection. Waiting for it
/// blocks until the holder's session ends (stop, crash, or a dropped connection).
/// </summary>
public sealed class LeaderLock(NpgsqlDataSource dataSource)
{
    /// <summary>"RecRe" in ASCII; distinct from the migrator's lock.</summary>
    public const long Key = 0x5265635265;

    /// <summary>Waits, without a time limit, until this session holds the lock; returns the connection that holds it.</summary>
    public async Task<NpgsqlConnection> AcquireAsync(CancellationToken cancellationToken)
    {
        var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            await using var command = new NpgsqlCommand($"SELECT pg_advisory_lock({Key})", connection);
            command.CommandTimeout = 0; // waiting for the lock is the point
            await command.ExecuteNonQueryAsync(cancellationToken);
            return connection;
        }
        catch
        {
            await ReleaseAsync(connection);
            throw;
        }
    }

    /// <summary>Whether the holding session still answers (a busy server answering slowly still holds the lock).</summary>
    public static async Task CheckAsync(NpgsqlConnection connection, int timeoutSeconds, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT 1", connection) { CommandTimeout = timeoutSeconds };
        await command.ExecuteScalarAsync(cancellationToken);
    }

    /// <summary>
    /// Unlocks and closes. A pooled connection keeps its session (and so the lock) while idle in the pool, so the
    /// lock is released explicitly before the connection goes back.
    /// </summary>
    public static async Task ReleaseAsync(NpgsqlConnection? connection)
    {
        if (connection is null)
        {
            return;
        }
        try
        {
            if (connection.State == System.Data.ConnectionState.Open)
            {
                await using var unlock = new NpgsqlCommand("SELECT pg_advisory_unlock_all()", connection) { CommandTimeout = 5 };
                await unlock.ExecuteNonQueryAsync();
            }
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException or System.Net.Sockets.SocketException)
        {
            // A broken connection is not returned to the pool; the server drops its locks with the session.
        }
        await connection.DisposeAsync();
    }
}
