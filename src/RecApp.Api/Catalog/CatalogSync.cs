using System.Globalization;
using Microsoft.Extensions.Options;
using Npgsql;
using StackExchange.Redis;

namespace RecApp.Api.Catalog;

/// <summary>Section <c>Catalog</c>.</summary>
public sealed class CatalogOptions
{
    public const string Section = "Catalog";

    /// <summary>Safety-net poll of <c>items.updated_at</c> for changes whose Redis message was missed.</summary>
    public int PollSeconds { get; set; } = 5;
}

/// <summary>
/// Keeps <see cref="LiveCatalog"/> current on every instance: loads the catalog at start, applies single-item
/// changes announced on Redis (the instance that wrote the change publishes its id; each instance re-reads the
/// row from its own database), and polls <c>updated_at</c> so a change made while Redis was down still arrives.
/// </summary>
public sealed class CatalogSync(
    LiveCatalog catalog,
    NpgsqlDataSource dataSource,
    IConnectionMultiplexer redis,
    IConfiguration configuration,
    IOptions<CatalogOptions> options,
    ILogger<CatalogSync> logger) : BackgroundService
{
    private const string ItemColumns = "id, active, price, category, updated_at";

    private readonly RedisChannel _channel = new(
        (configuration["Caching:KeyPrefix"] ?? "recapp:") + "catalog:changed", RedisChannel.PatternMode.Literal);

    private static readonly TimeSpan s_watermarkOverlap = TimeSpan.FromSeconds(10);

    private DateTime _watermark = DateTime.MinValue;

    /// <summary>Raised after a single item's change was applied (the engine's snapshot listens).</summary>
    public event Action<long>? ItemChanged;

    /// <summary>
    /// Called by the instance that changed an item, after the database commit: applies it here at once and tells
    /// the other instances. A Redis failure is logged, not thrown: the poll delivers the change a little later.
    /// </summary>
    public async Task PublishAsync(long itemId, ItemState state)
    {
        catalog.Apply(itemId, state);
        ItemChanged?.Invoke(itemId);
        await AnnounceAsync(itemId);
    }

    /// <summary>Re-reads one item here and on every instance (an operator's "this item changed").</summary>
    public async Task RefreshAsync(long itemId)
    {
        await ReloadAsync(itemId);
        await AnnounceAsync(itemId);
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

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _ = SubscribeAsync(stoppingToken);
        var interval = TimeSpan.FromSeconds(options.Value.PollSeconds);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await LoadChangesAsync(stoppingToken);
                await Task.Delay(interval, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException)
            {
                logger.LogDebug(ex, "Catalog sync could not read the database; retrying.");
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    /// <summary>Reads every item changed since the last read (everything, the first time).</summary>
    internal async Task LoadChangesAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            $"SELECT {ItemColumns} FROM items WHERE updated_at >= $1 ORDER BY updated_at");
        // updated_at is the writer's transaction start, so a slow transaction can commit a stamp just below the
        // watermark: read a few seconds back. Applying a row twice is harmless.
        command.Parameters.Add(new NpgsqlParameter
        {
            Value = _watermark == DateTime.MinValue ? DateTime.UnixEpoch : _watermark - s_watermarkOverlap,
        });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var (id, state) = Read(reader);
            catalog.Apply(id, state);
            if (state.UpdatedAt > _watermark)
            {
                _watermark = state.UpdatedAt;
            }
        }
        catalog.MarkLoaded();
    }

    private async Task SubscribeAsync(CancellationToken cancellationToken)
    {
        // Subscribing fails while Redis is down: keep trying (the poll covers the gap). Once subscribed, the
        // multiplexer re-subscribes by itself after a reconnect.
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await redis.GetSubscriber().SubscribeAsync(_channel, (channel, message) => _ = OnMessageAsync(message));
                return;
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                logger.LogDebug(ex, "Could not subscribe to catalog changes yet.");
                await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    private async Task OnMessageAsync(RedisValue message)
    {
        if (long.TryParse((string?)message, NumberStyles.None, CultureInfo.InvariantCulture, out var itemId))
        {
            await ReloadAsync(itemId);
        }
    }

    private async Task ReloadAsync(long itemId)
    {
        try
        {
            await using var command = dataSource.CreateCommand($"SELECT {ItemColumns} FROM items WHERE id = $1");
            command.Parameters.Add(new NpgsqlParameter { Value = itemId });
            await using var reader = await command.ExecuteReaderAsync();
            if (await reader.ReadAsync())
            {
                var (id, state) = Read(reader);
                catalog.Apply(id, state);
                ItemChanged?.Invoke(id);
            }
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException)
        {
            logger.LogWarning(ex, "Could not re-read changed item {ItemId}; the poll will apply it.", itemId);
        }
    }

    private static (long Id, ItemState State) Read(NpgsqlDataReader reader) =>
        (reader.GetInt64(0), new ItemState(reader.GetBoolean(1), reader.GetDecimal(2), reader.GetString(3), reader.GetDateTime(4)));
}
