using Microsoft.Extensions.Options;
using Npgsql;
using RecApp.Data.Jobs;

namespace RecApp.Refresher.Worker;

/// <summary>
/// One leader among all Refreshers sharing a database: the leader holds a PostgreSQL session advisory lock on a
/// dedicated connection. Followers block in <c>pg_advisory_lock</c>, so the lock passes to one of them the moment
/// the leader's session ends (stop, crash, or a dropped connection).
/// </summary>
public sealed class LeaderElection(LeaderLock leaderLock, IOptions<RefresherOptions> options, ILogger<LeaderElection> logger)
{
    private volatile bool _isLeader;

    /// <summary>True while this instance holds the lock.</summary>
    public bool IsLeader => _isLeader;

    /// <summary>Waits until this instance holds the lock. Database errors are retried; only cancellation ends the wait.</summary>
    public async Task<LeaderLease> AcquireAsync(CancellationToken cancellationToken)
    {
        var retry = options.Value.LeaderCheckInterval;
        while (true)
        {
            try
            {
                var connection = await leaderLock.AcquireAsync(cancellationToken);
                var lease = new LeaderLease(connection, retry, () => _isLeader = false, logger);
                _isLeader = true;
                logger.LogInformation("{Instance} is now the leader.", options.Value.InstanceName);
                return lease;
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or System.Net.Sockets.SocketException)
            {
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
                await LeaderLock.CheckAsync(_connection, CheckTimeoutSeconds, _stop.Token);
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
        await LeaderLock.ReleaseAsync(_connection);
        _stop.Dispose();
        _lost.Dispose();
    }
}
