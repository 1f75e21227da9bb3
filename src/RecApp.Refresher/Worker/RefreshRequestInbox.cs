using Npgsql;
using RecApp.Data.Jobs;

namespace RecApp.Refresher.Worker;

/// <summary>
/// The leader's view of on-demand refreshes (<see cref="RefreshRequestStore"/>): pending rows, and a notification that
/// wakes it early. Listens on a dedicated connection, reopened after a failure.
/// </summary>
public sealed class RefreshRequestInbox(RefreshRequestStore store, ILogger<RefreshRequestInbox> logger) : IAsyncDisposable
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
        _listener = await store.ListenAsync(cancellationToken);
    }

    public Task<IReadOnlyList<RefreshRequest>> ReadPendingAsync(CancellationToken cancellationToken) => store.ReadPendingAsync(cancellationToken);

    public Task MarkHandledAsync(IEnumerable<long> ids, CancellationToken cancellationToken) => store.MarkHandledAsync(ids, cancellationToken);

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
