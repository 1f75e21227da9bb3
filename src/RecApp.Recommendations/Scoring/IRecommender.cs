using RecApp.Recommendations.Data;
using RecApp.Recommendations.Model;

namespace RecApp.Recommendations.Scoring;

/// <summary>Which source answered, as the API reports it in <c>algorithm_used</c>.</summary>
public enum RecommendationAlgorithm
{
    Popular,
    Content,
    Collaborative,
    Similar,
}

/// <summary>Request-time filters. Null means "no constraint".</summary>
public sealed record RecommendationFilters(decimal? PriceFrom = null, decimal? PriceTo = null, string? Category = null, int? GeoId = null)
{
    public static RecommendationFilters None { get; } = new();

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

/// <summary>Who the popular list is for; null fields fall back to broader segments.</summary>
public sealed record Demographics(string? Gender = null, string? AgeGroup = null, int? GeoId = null, string? Category = null);

/// <summary>
/// A complete ranked list (every page), best first. Immutable, so a cache can hand out the same instance.
/// </summary>
[System.ComponentModel.ImmutableObject(true)]
public sealed record RankedList(long[] ItemIds, float[] Scores, RecommendationAlgorithm Algorithm, long ModelVersion);

/// <summary>
/// The scoring engine the API calls on a cache miss. Reads the global model from memory and the user's own
/// history fresh from the database, so a new interaction changes the next answer before the next refresh.
/// </summary>
public interface IRecommender
{
    /// <summary>The tiered answer for a user: popular (0 interactions), content (1–2), collaborative blend (3+).</summary>
    Task<RankedList> ForUserAsync(long userId, RecommendationFilters filters, CancellationToken cancellationToken);

    /// <summary>Popular items for a demographic segment.</summary>
    Task<RankedList> PopularAsync(Demographics demographics, RecommendationFilters filters, CancellationToken cancellationToken);

    /// <summary>Neighbors of an item; null when the item is unknown.</summary>
    Task<RankedList?> SimilarAsync(long itemId, CancellationToken cancellationToken);

    /// <summary>Each candidate's score by source for a user (unfiltered), for operators; not on the request path.</summary>
    Task<IReadOnlyDictionary<long, SourceContribution[]>> ExplainSourcesAsync(ModelSnapshot snapshot, long userId, CancellationToken cancellationToken);

    /// <summary>As <see cref="ForUserAsync(long, RecommendationFilters, CancellationToken)"/>, on a snapshot the caller took once for the request.</summary>
    Task<RankedList> ForUserAsync(ModelSnapshot snapshot, long userId, RecommendationFilters filters, CancellationToken cancellationToken);

    /// <summary>As <see cref="PopularAsync(Demographics, RecommendationFilters, CancellationToken)"/>, on a snapshot the caller took once.</summary>
    Task<RankedList> PopularAsync(ModelSnapshot snapshot, Demographics demographics, RecommendationFilters filters, CancellationToken cancellationToken);

    /// <summary>As <see cref="SimilarAsync(long, CancellationToken)"/>, on a snapshot the caller took once.</summary>
    Task<RankedList?> SimilarAsync(ModelSnapshot snapshot, long itemId, CancellationToken cancellationToken);
}
