using RecApp.Engine.Domain;
using RecApp.Engine.Model;
using RecApp.Engine.Scoring;

namespace RecApp.Api.Recommendations;

/// <summary>
/// The scoring engine the API calls on a cache miss. Reads the global model from memory and the user's own
/// history fresh from the database, so a new interaction changes the next answer before the next refresh.
/// </summary>
public interface IRecommender
{
    /// <summary>Each candidate's score by source for a user (unfiltered), for operators; not on the request path.</summary>
    Task<IReadOnlyDictionary<long, SourceContribution[]>> ExplainSourcesAsync(ModelSnapshot snapshot, long userId, CancellationToken cancellationToken);

    /// <summary>
    /// The tiered answer for a user: popular (0 interactions), content (1–2), collaborative blend (3+), on the snapshot
    /// the caller took once for the request.
    /// </summary>
    Task<RankedList> ForUserAsync(ModelSnapshot snapshot, long userId, RecommendationFilters filters, CancellationToken cancellationToken);

    /// <summary>Popular items for a demographic segment.</summary>
    Task<RankedList> PopularAsync(ModelSnapshot snapshot, Demographics demographics, RecommendationFilters filters, CancellationToken cancellationToken);

    /// <summary>Neighbors of an item; null when the item is unknown.</summary>
    Task<RankedList?> SimilarAsync(ModelSnapshot snapshot, long itemId, CancellationToken cancellationToken);
}
