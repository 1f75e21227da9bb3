using Npgsql;
using RecApp.Recommendations.Model;

namespace RecApp.Refresher.Worker;

/// <summary>A row of <c>refresh_requests</c> not yet handled.</summary>
public sealed record RefreshRequest(long Id, string Job);

/// <summary>
/// On-demand refreshes: the API inserts a row into <c>refresh_requests</c> and sends NOTIFY on
/// <see cref="ModelChannels.RefreshRequested"/>. The table is the source of truth (requests made while no Refresher
/// listened are still found); the notification only wakes the leader early. Listens on a dedicated connection,
/// reopened after a failure.
/// </summary>
public sealed class RefreshRequestInbox(NpgsqlDataSource dataSource, ILogger<RefreshRequestInbox> logger) : IAsyncDisposable
{
    private NpgsqlConnection? _listener;

    /// <summary>Starts listening (if not already); call before reading pending rows so no request falls between the two.</summary>
    public async Task ListenAsync(CancellationToken cancellationToken)
    {
        if (_listener is { State: System.Data.ConnectionState.Open })
        {
            return;
        }
        await CloseAsync();
        var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            await using var listen = new NpgsqlCommand($"LISTEN {ModelChannels.RefreshRequested}", connection);
            await listen.ExecuteNonQueryAsync(cancellationToken);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
        _listener = connection;
    }

    public async Task<IReadOnlyList<RefreshRequest>> ReadPendingAsync(CancellationToken cancellationToken)
    {
        var pending = new List<RefreshRequest>();
        await using var command = dataSource.CreateCommand(
            "SELECT id, job FROM refresh_requests WHERE handled_at IS NULL ORDER BY id");
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

    /// <summary>Waits for a notification or the timeout; true when a notification arrived.</summary>
    public async Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        await ListenAsync(cancellationToken);
        try
        {
            var milliseconds = (int)Math.Clamp(timeout.TotalMilliseconds, 10, int.MaxValue);
            return await _listener!.WaitAsync(milliseconds, cancellationToken);
        }
        catch (Exception ex) when (ex is NpgsqlException or System.IO.IOException or System.Net.Sockets.SocketException)
        {
            logger.LogWarning(ex, "The refresh request listener failed; reconnecting.");
            await CloseAsync();
            return false;
        }
    }

    private async Task CloseAsync()
    {
        if (_listener is not null)
        {
            await _listener.DisposeAsync();
            _listener = null;
        }
    }

    public ValueTask DisposeAsync() => new(CloseAsync());
}
