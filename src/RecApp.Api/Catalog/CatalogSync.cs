using System.Globalization;
using Npgsql;
using RecApp.Recommendations.Data;
using RecApp.Recommendations.Model;
using StackExchange.Redis;

namespace RecApp.Api.Catalog;

/// <summary>
/// Carries single-item catalog changes to every instance's in-process model (<see cref="IGlobalModel"/>), whose
/// catalog every answer is re-validated against. The instance that wrote the change applies it at once and
/// publishes the item id on Redis; the others re-read the row from their own database and apply it, well within
/// a second. A message missed while Redis was away is repaired by the model's own poll of <c>items.updated_at</c>.
/// </summary>
public sealed class CatalogSync(
    IGlobalModel model, IConnectionMultiplexer redis, IConfiguration configuration, ILogger<CatalogSync> logger) : BackgroundService
{
    // Prefixed like the cache's keys, so test classes (or apps) sharing one Redis do not hear each other.
    private static readonly TimeSpan s_subscribeTimeout = TimeSpan.FromSeconds(2);

    private volatile bool _subscribed;

    private readonly RedisChannel _channel = new(
        (configuration["Caching:KeyPrefix"] ?? "recapp:") + "catalog:changed", RedisChannel.PatternMode.Literal);

    /// <summary>After the database commit: applies the change here and tells the other instances.</summary>
    public async Task PublishAsync(CatalogItem item)
    {
        model.ApplyItemChange(item);
        await AnnounceAsync(item.Id);
    }

    /// <summary>Re-reads one item here and on every instance (an operator's "this item changed behind the API").</summary>
    public async Task RefreshAsync(long itemId)
    {
        await model.ApplyItemChangeAsync(itemId, CancellationToken.None);
        await AnnounceAsync(itemId);
    }

    /// <summary>
    /// Subscribes before the instance starts serving, so a change announced right after start-up is not missed
    /// (bounded: with Redis down, start-up goes on and <see cref="ExecuteAsync"/> keeps trying).
    /// </summary>
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await TrySubscribeAsync().WaitAsync(s_subscribeTimeout, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Once subscribed, the multiplexer re-subscribes by itself after a reconnect.
        while (!_subscribed && !stoppingToken.IsCancellationRequested)
        {
            await Task.Delay(TimeSpan.FromSeconds(2), stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            await TrySubscribeAsync();
        }
    }

    private async Task TrySubscribeAsync()
    {
        try
        {
            await redis.GetSubscriber().SubscribeAsync(_channel, (_, message) => OnMessage(message));
            _subscribed = true;
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            logger.LogDebug(ex, "Could not subscribe to catalog changes yet.");
        }
    }

    private async Task AnnounceAsync(long itemId)
    {
        try
        {
            await redis.GetSubscriber().PublishAsync(_channel, itemId.ToString(CultureInfo.InvariantCulture));
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            logger.LogWarning(ex, "Could not announce the change of item {ItemId}; other instances pick it up by polling.", itemId);
        }
    }

    private void OnMessage(RedisValue message)
    {
        if (long.TryParse((string?)message, NumberStyles.None, CultureInfo.InvariantCulture, out var itemId))
        {
            _ = ReloadAsync(itemId);
        }
    }

    private async Task ReloadAsync(long itemId)
    {
        try
        {
            await model.ApplyItemChangeAsync(itemId, CancellationToken.None);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException)
        {
            logger.LogWarning(ex, "Could not re-read changed item {ItemId}; the model's poll will apply it.", itemId);
        }
    }
}
