using Microsoft.Extensions.Options;
using Npgsql;

namespace RecApp.Refresher.Worker;

/// <summary>
/// One leader among all Refreshers sharing a database: the leader holds a PostgreSQL session advisory lock on a
/// dedicated connection. Followers block in <c>pg_advisory_lock</c>, so the lock passes to one of them the moment
/// the leader's session ends (stop, crash, or a dropped connection).
/// </summary>
public sealed class LeaderElection(NpgsqlDataSource dataSource, IOptions<RefresherOptions> options, ILogger<LeaderElection> logger)
{
    /// <summary>"RecRe" in ASCII; distinct from the migrator's lock.</summary>
    public const long LockKey = 0x5265635265;

    private volatile bool _isLeader;

    /// <summary>True while this instance holds the lock.</summary>
    public bool IsLeader => _isLeader;

    /// <summary>Waits until this instance holds the lock. Database errors are retried; only cancellation ends the wait.</summary>
    public async Task<LeaderLease> AcquireAsync(CancellationToken cancellationToken)
    {
        var retry = options.Value.LeaderCheckInterval;
        while (true)
        {
            NpgsqlConnection? connection = null;
            try
            {
                connection = await dataSource.OpenConnectionAsync(cancellationToken);
                await using (var command = new NpgsqlCommand($"SELECT pg_advisory_lock({LockKey})", connection))
                {
                    command.CommandTimeout = 0; // waiting for the lock is the point
                    await command.ExecuteNonQueryAsync(cancellationToken);
                }
                var lease = new LeaderLease(connection, retry, () => _isLeader = false, logger);
                _isLeader = true;
                logger.LogInformation("{Instance} is now the leader.", options.Value.InstanceName);
                return lease;
            }
            catch (Exception ex) when (ex is OperationCanceledException && cancellationToken.IsCancellationRequested)
            {
                await LeaderLease.ReleaseAsync(connection);
                throw;
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or System.Net.Sockets.SocketException)
            {
                await LeaderLease.ReleaseAsync(connection);
                logger.LogWarning(ex, "Could not wait for leadership; retrying in {Delay}.", retry);
                await Task.Delay(retry, cancellationToken);
            }
        }
    }
}

/// <summary>
/// Leadership while it lasts: <see cref="Lost"/> fires when the lock connection stops answering (the lock is gone
/// with the session). Disposing releases the lock.
/// </summary>
public sealed class LeaderLease : IAsyncDisposable
{
    private readonly NpgsqlConnection _connection;
    private readonly CancellationTokenSource _lost = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Action _onEnd;
    private readonly Task _monitor;

    internal LeaderLease(NpgsqlConnection connection, TimeSpan checkInterval, Action onEnd, ILogger logger)
    {
        _connection = connection;
        _onEnd = onEnd;
        _monitor = MonitorAsync(checkInterval, logger);
    }

    private const int CheckTimeoutSeconds = 30;

    public CancellationToken Lost => _lost.Token;

    private async Task MonitorAsync(TimeSpan interval, ILogger logger)
    {
        try
        {
            while (true)
            {
                await Task.Delay(interval, _stop.Token);
                // A generous timeout: a busy server answering slowly still holds the lock; only a dead session loses it.
                await using var command = new NpgsqlCommand("SELECT 1", _connection) { CommandTimeout = CheckTimeoutSeconds };
                await command.ExecuteScalarAsync(_stop.Token);
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException or System.Net.Sockets.SocketException)
        {
            logger.LogWarning(ex, "Lost the leader lock connection; stepping down.");
            _onEnd();
            await _lost.CancelAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _monitor;
        _onEnd();
        await ReleaseAsync(_connection);
        _stop.Dispose();
        _lost.Dispose();
    }

    /// <summary>
    /// Unlocks and closes. A pooled connection keeps its session (and so the lock) while idle in the pool, so the
    /// lock is released explicitly before the connection goes back.
    /// </summary>
    internal static async Task ReleaseAsync(NpgsqlConnection? connection)
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
