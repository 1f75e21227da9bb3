namespace RecApp.Engine.Domain;


/// <summary>Request-time filters. Null means "no constraint".</summary>
public sealed record RecommendationFilters(decimal? PriceFrom = null, decimal? PriceTo = null, string? Category = null, int? GeoId = null)
{
    public static RecommendationFilters None { get; } = new();

    /// <summary>No constraint beyond the item being active.</summary>
    public bool IsNone => PriceFrom is null && PriceTo is null && Category is null && GeoId is null;

    /// <summary>
    /// The one servability rule, used when ranking and again when answering: the item exists and is active, its price
    /// is within the range, its category matches, and it has the requested geo or none.
    /// </summary>
    public bool Admits(CatalogItem? item) =>
        item is { Active: true }
        && (PriceFrom is not { } from || item.Price >= from)
        && (PriceTo is not { } to || item.Price <= to)
        && (Category is not { } category || item.Category == category)
        && (GeoId is not { } geo || item.GeoId is null || item.GeoId == geo);
}

/// <summary>
/// A complete ranked list (every page), best first. Immutable, so a cache can hand out the same instance.
/// </summary>
[System.ComponentModel.ImmutableObject(true)]
public sealed record RankedList(long[] ItemIds, float[] Scores, RecommendationAlgorithm Algorithm, long ModelVersion);
