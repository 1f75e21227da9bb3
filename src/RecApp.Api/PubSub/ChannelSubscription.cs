using StackExchange.Redis;

namespace RecApp.Api.PubSub;

/// <summary>
/// One Redis pub/sub subscription whose every call is bounded. StackExchange.Redis 1.2.6 async calls have no timeout
/// of their own (a stalled connection leaves them pending), so nothing here waits longer than <see cref="CallTimeout"/>.
/// </summary>
/// <remarks>
/// 1.2.6 registers the handler locally before it asks the server, and a second subscribe of a registered channel
/// only adds the handler again without asking the server. So a subscribe still in flight is awaited again rather
/// than repeated, and one that failed is undone before it is retried (else the handler would run twice per message).
/// </remarks>
public sealed class ChannelSubscription(
    IConnectionMultiplexer redis, RedisChannel channel, Action<RedisChannel, RedisValue> handler, ILogger logger)
{
    /// <summary>Longest wait for one Redis call on a request path or at start-up.</summary>
    public static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(1);

    private readonly Lock _gate = new();
    private Task? _pending;

    public RedisChannel Channel => channel;

    /// <summary>
    /// Waits at most <see cref="CallTimeout"/> for a Redis call (TimeoutException past it). A call given up on is
    /// still observed when it fails later, so its failure never surfaces as an unobserved task exception.
    /// </summary>
    public static Task<T> Bounded<T>(Task<T> call, CancellationToken cancellationToken = default)
    {
        Observe(call);
        return call.WaitAsync(CallTimeout, cancellationToken);
    }

    private static void Observe(Task call) =>
        call.ContinueWith(static t => _ = t.Exception, CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

    public bool IsSubscribed => Volatile.Read(ref _pending) is { IsCompletedSuccessfully: true };

    /// <summary>True once the server confirmed the subscription; false (logged) while Redis is away or slow.</summary>
    public async Task<bool> TrySubscribeAsync(CancellationToken cancellationToken)
    {
        Task pending;
        lock (_gate)
        {
            if (_pending is { IsFaulted: true } or { IsCanceled: true })
            {
                Undo();
                _pending = null;
            }
            pending = _pending ??= Subscribe();
        }
        try
        {
            await pending.WaitAsync(CallTimeout, cancellationToken);
            return true;
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            logger.LogDebug(ex, "Could not subscribe to {Channel} yet.", (string?)channel);
            return false;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>On shutdown: this handler stops being called (bounded; failures are only logged).</summary>
    public async Task UnsubscribeAsync()
    {
        Task? pending;
        lock (_gate)
        {
            pending = _pending;
            _pending = null;
        }
        if (pending is null)
        {
            return;
        }
        try
        {
            await Bounded(UnsubscribeCall());
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
        {
            logger.LogDebug(ex, "Could not unsubscribe from {Channel}.", (string?)channel);
        }
    }

    private async Task<bool> UnsubscribeCall()
    {
        await redis.GetSubscriber().UnsubscribeAsync(channel, handler);
        return true;
    }

    private Task Subscribe()
    {
        try
        {
            var call = redis.GetSubscriber().SubscribeAsync(channel, handler);
            Observe(call);
            return call;
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            return Task.FromException(ex);
        }
    }

    /// <summary>Removes this handler locally (and the server subscription when it was the last one), without waiting.</summary>
    private void Undo()
    {
        try
        {
            redis.GetSubscriber().Unsubscribe(channel, handler, CommandFlags.FireAndForget);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            logger.LogDebug(ex, "Could not unsubscribe from {Channel}.", (string?)channel);
        }
    }
}
