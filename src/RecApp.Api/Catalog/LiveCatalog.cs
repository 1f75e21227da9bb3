using System.Collections.Concurrent;
using RecApp.Recommendations.Scoring;

namespace RecApp.Api.Catalog;

/// <summary>What the API re-checks about an item before serving it from a cached list.</summary>
public sealed record ItemState(bool Active, decimal Price, string Category, DateTime UpdatedAt);

/// <summary>
/// This instance's live view of the catalog: every item's active flag, price and category. Cached ranked lists
/// are re-validated against it on every answer, so an item changed or deactivated anywhere stops being served
/// here as soon as <see cref="CatalogSync"/> applies the change (Redis pub/sub, with a database poll as a net),
/// without evicting any list.
/// </summary>
public sealed class LiveCatalog
{
    private readonly ConcurrentDictionary<long, ItemState> _items = new();
    private volatile bool _loaded;

    /// <summary>True once the whole catalog has been read at least once.</summary>
    public bool IsLoaded => _loaded;

    public int Count => _items.Count;

    public bool TryGet(long id, out ItemState state) => _items.TryGetValue(id, out state!);

    /// <summary>Known to exist (active or not). Before the first load nothing is known, so this answers true.</summary>
    public bool MayExist(long id) => !_loaded || _items.ContainsKey(id);

    /// <summary>
    /// Whether an item from a cached list may be served under <paramref name="filters"/>. An item this instance
    /// has not seen yet (added after the last sync) is served: the engine only ranks items it knows.
    /// </summary>
    public bool IsServable(long id, RecommendationFilters filters)
    {
        if (!_items.TryGetValue(id, out var item))
        {
            return true;
        }
        return item.Active
            && (filters.PriceFrom is not { } from || item.Price >= from)
            && (filters.PriceTo is not { } to || item.Price <= to)
            && (filters.Category is not { } category || string.Equals(item.Category, category, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>Applies a newer state of one item; an older one (a late message) is ignored.</summary>
    public void Apply(long id, ItemState state) =>
        _items.AddOrUpdate(id, state, (_, current) => state.UpdatedAt >= current.UpdatedAt ? state : current);

    internal void MarkLoaded() => _loaded = true;
}
