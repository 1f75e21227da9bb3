using StackExchange.Redis;

namespace RecApp.Api.PubSub;

/// <summary>
/// One Redis pub/sub handler. It is registered once: StackExchange.Redis keeps the subscription and re-establishes
/// it after every reconnect, including when the first attempt failed because Redis was down at start-up, so a
/// retry would only register the handler twice.
/// </summary>
public sealed class ChannelSubscription(
    IConnectionMultiplexer redis, RedisChannel channel, Action<RedisChannel, RedisValue> handler, ILogger logger)
{
    /// <summary>Longest wait for one Redis call on a request path or at start-up (a hung server holds calls until the client's own timeout).</summary>
    public static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(1);

    private int _registered;

    /// <summary>Waits at most <see cref="CallTimeout"/> for a Redis call; a call given up on is still observed.</summary>
    public static Task<T> Bounded<T>(Task<T> call, CancellationToken cancellationToken = default)
    {
        call.ContinueWith(static t => _ = t.Exception, CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return call.WaitAsync(CallTimeout, cancellationToken);
    }

    /// <summary>Registers the handler (once); with Redis away it takes effect when the connection is back.</summary>
    public async Task SubscribeAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _registered, 1) == 1)
        {
            return;
        }
        try
        {
            await Bounded(SubscribeCall(), cancellationToken);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            logger.LogInformation(ex, "Redis is not reachable yet; {Channel} is subscribed once it is.", (string?)channel);
        }
    }

    /// <summary>On shutdown: this handler stops being called (bounded; failures are only logged).</summary>
    public async Task UnsubscribeAsync()
    {
        if (Interlocked.Exchange(ref _registered, 0) == 0)
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

    private async Task<bool> SubscribeCall()
    {
        await redis.GetSubscriber().SubscribeAsync(channel, handler);
        return true;
    }

    private async Task<bool> UnsubscribeCall()
    {
        await redis.GetSubscriber().UnsubscribeAsync(channel, handler);
        return true;
    }
}
