using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RecApp.Engine;
using RecApp.Engine.Domain;
using RecApp.Engine.Model;
using RecApp.Data.Models;
using RecApp.Data.Catalog;

namespace RecApp.Api.Model;

/// <summary>The API's in-process global model: one immutable snapshot, swapped atomically.</summary>
public interface IGlobalModel
{
    /// <summary>The snapshot to score with; read it once per request and use that instance throughout.</summary>
    ModelSnapshot Current { get; }

    /// <summary>Loads parts whose current version changed and catalog rows changed since the last load.</summary>
    /// <returns>True when the model version changed.</returns>
    Task<bool> ReloadAsync(CancellationToken cancellationToken);

    /// <summary>Applies one catalog change at once (e.g. from a pub/sub message): a deactivated item stops being served.</summary>
    void ApplyItemChange(CatalogItem item);

    /// <summary>Re-reads one item from PostgreSQL and applies it (for messages that carry only the id).</summary>
    Task ApplyItemChangeAsync(long itemId, CancellationToken cancellationToken);
}

/// <summary>
/// Holds the snapshot (volatile reference, replaced whole, never mutated). Reloads are serialized; each reads only
/// the parts whose version moved (all of them from one database snapshot) and catalog rows updated after the last
/// one seen; a model version change also re-reads the whole catalog, which repairs any missed item message.
/// The catalog comes from <see cref="ICatalogReader"/>: the source database's when there is one (the model still comes
/// from <c>recdb</c>).
/// </summary>
public sealed class GlobalModelHolder(ModelStore store, ICatalogReader catalogReader, ILogger<GlobalModelHolder> logger) : IGlobalModel
{
    private readonly SemaphoreSlim _reload = new(1, 1);
    private readonly Lock _swap = new();
    private ModelSnapshot _current = ModelSnapshot.Empty;
    private DateTime? _catalogWatermark;
    // Live item changes applied while a reload reads the catalog (guarded by _swap): the rows that reload read may
    // predate them, so they are re-applied over the reloaded catalog. Null when no reload is reading.
    private Dictionary<long, CatalogItem>? _liveChanges;

    /// <summary>Test seam: runs after a reload has read the catalog and before it swaps the snapshot.</summary>
    internal Func<Task>? BeforeSwap { get; set; }

    public ModelSnapshot Current => Volatile.Read(ref _current);

    public async Task<bool> ReloadAsync(CancellationToken cancellationToken)
    {
        await _reload.WaitAsync(cancellationToken);
        try
        {
            var before = Current;
            var versions = await store.ReadCurrentVersionsAsync(cancellationToken);
            var changed = versions.Where(v => !before.PartVersions.TryGetValue(v.Key, out var old) || old != v.Value)
                .Select(v => v.Key).ToArray();
            var fullCatalog = changed.Length > 0 || _catalogWatermark is null;

            lock (_swap)
            {
                _liveChanges = [];
            }
            List<CatalogItem> items;
            DateTime? watermark;
            StoredModel? stored;
            try
            {
                stored = changed.Length > 0 ? await store.ReadAsync(changed, cancellationToken) : null;
                // Rows stamped at or after the watermark (re-applying the boundary rows is harmless); a row committed late with
                // an older stamp is picked up by the next full read (every model version change), and normally long before
                // that by the API's item message.
                (items, watermark) = await catalogReader.ReadChangesAsync(fullCatalog ? null : _catalogWatermark, cancellationToken);
                if (BeforeSwap is { } beforeSwap)
                {
                    await beforeSwap();
                }
            }
            catch
            {
                lock (_swap)
                {
                    _liveChanges = null;
                }
                throw;
            }

            lock (_swap)
            {
                var current = Current;
                var catalog = fullCatalog ? Engine.Model.Catalog.Create(items) : current.Catalog.With(items);
                if (_liveChanges is { Count: > 0 } live)
                {
                    catalog = catalog.With(live.Values);
                }
                _liveChanges = null;
                var partVersions = new Dictionary<string, long>(current.PartVersions);
                if (stored is not null)
                {
                    foreach (var part in changed)
                    {
                        if (stored.Versions.TryGetValue(part, out var version))
                        {
                            partVersions[part] = version;
                        }
                    }
                }
                var merged = current with { Catalog = catalog, PartVersions = partVersions };
                var next = stored?.ApplyTo(merged) ?? merged;
                if (watermark is not null && (_catalogWatermark is null || watermark > _catalogWatermark))
                {
                    _catalogWatermark = watermark;
                }
                Volatile.Write(ref _current, next);
                if (next.Version != before.Version)
                {
                    logger.LogInformation("Global model now at version {Version} ({Parts}); catalog {Items} items.",
                        next.Version, string.Join(", ", partVersions.Select(p => $"{p.Key} v{p.Value}")), catalog.Count);
                }
                return next.Version != before.Version;
            }
        }
        finally
        {
            _reload.Release();
        }
    }

    public void ApplyItemChange(CatalogItem item)
    {
        lock (_swap)
        {
            _liveChanges?[item.Id] = item;
            var current = Current;
            Volatile.Write(ref _current, current with { Catalog = current.Catalog.With([item]) });
        }
    }

    public async Task ApplyItemChangeAsync(long itemId, CancellationToken cancellationToken)
    {
        if (await catalogReader.ReadItemAsync(itemId, cancellationToken) is { } stored)
        {
            ApplyItemChange(stored.Item);
        }
        else if (Current.Catalog.Find(itemId) is { } gone)
        {
            ApplyItemChange(gone with { Active = false }); // deleted rows are treated as deactivated
        }
    }
}

/// <summary>Loads the global model at start-up (an empty or unreachable database gives an empty model) and polls.</summary>
public sealed class GlobalModelRefreshService(IGlobalModel model, IOptions<RecommendationOptions> options, ILogger<GlobalModelRefreshService> logger)
    : BackgroundService
{
    // Not disposed: a host may call StopAsync after Dispose, and a CancellationTokenSource without a timer holds nothing.
    private readonly CancellationTokenSource _stopping = new();

    /// <summary>Start-up waits for the first load, at most <see cref="RecApp.Engine.StoreOptions.SnapshotStartupWait"/>; a slower
    /// load finishes in the background while the empty model answers.</summary>
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        var first = TryReloadAsync(_stopping.Token);
        await Task.WhenAny(first, Task.Delay(options.Value.Store.SnapshotStartupWait, cancellationToken));
        await base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        await base.StopAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.Store.SnapshotPollInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await TryReloadAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private int _failedPolls;

    /// <summary>
    /// One warning when polls start failing, one line when they succeed again; the failures in between (every poll
    /// while the database is down) only at Debug, with their stack traces.
    /// </summary>
    private async Task TryReloadAsync(CancellationToken cancellationToken)
    {
        try
        {
            await model.ReloadAsync(cancellationToken);
            if (_failedPolls > 0)
            {
                logger.LogInformation("Global model polls succeed again after {Failed} failed ones; serving version {Version}.",
                    _failedPolls, model.Current.Version);
                _failedPolls = 0;
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Database down or schema not migrated yet: keep serving the snapshot we have and try again next tick.
            if (_failedPolls++ == 0)
            {
                logger.LogWarning("Global model reload failed ({Error}); still serving version {Version}, retried every poll.",
                    ex.Message, model.Current.Version);
            }
            logger.LogDebug(ex, "Global model reload failed.");
        }
    }
}
