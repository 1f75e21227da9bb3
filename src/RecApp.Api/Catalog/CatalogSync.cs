using System.Globalization;
using RecApp.Api.PubSub;
using RecApp.Engine.Domain;
using RecApp.Data;
using RecApp.Data.Source;
using RecApp.Engine;
using RecApp.Engine.Model;
using RecApp.Engine.Training;
using RecApp.Engine.Embeddings;
using RecApp.Data.Models;
using RecApp.Api.Model;
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
    private ChannelSubscription? _subscription;

    // One consumer re-reads announced items in arrival order: concurrent re-reads of one item could finish out of
    // order and leave the older row applied, and every failure is observed in one place.
    private readonly System.Threading.Channels.Channel<long> _changed =
        System.Threading.Channels.Channel.CreateUnbounded<long>(new() { SingleReader = true });

    private readonly RedisChannel _channel = RedisChannel.Literal(RedisNames.From(configuration).CatalogChanged);

    private ChannelSubscription Subscription =>
        _subscription ??= new ChannelSubscription(redis, _channel, (_, message) => OnMessage(message), logger);

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
        await Subscription.SubscribeAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await Subscription.UnsubscribeAsync();
        await base.StopAsync(cancellationToken); // waits for the consumer to finish the change in hand
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => ApplyChangesAsync(stoppingToken);

    private async Task ApplyChangesAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var itemId in _changed.Reader.ReadAllAsync(stoppingToken))
            {
                await ReloadAsync(itemId, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: what is still queued is repaired by the model's poll of items.updated_at after a restart.
        }
    }

    /// <summary>Bounded: an item write must never hang on a stalled Redis.</summary>
    private async Task AnnounceAsync(long itemId)
    {
        try
        {
            await ChannelSubscription.Bounded(redis.GetSubscriber().PublishAsync(_channel, itemId.ToString(CultureInfo.InvariantCulture)));
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
            _changed.Writer.TryWrite(itemId);
        }
    }

    private async Task ReloadAsync(long itemId, CancellationToken stoppingToken)
    {
        try
        {
            await model.ApplyItemChangeAsync(itemId, stoppingToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
        {
            // Whatever failed, the consumer goes on with the next change.
            logger.LogWarning(ex, "Could not re-read changed item {ItemId}; the model's poll will apply it.", itemId);
        }
    }
}
