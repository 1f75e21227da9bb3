using RecApp.Recommendations.Data;
using RecApp.Recommendations.Model.Embeddings;

namespace RecApp.Recommendations.Model;

/// <summary>Every part of the global model, in id space: what the jobs store and the snapshot indexes.</summary>
public sealed record GlobalModel(
    PopularityModel Popularity, TrendingModel Trending, ItemNeighborModel ItemNeighbors, UserNeighborModel UserNeighbors, ProfileModel Profiles)
{
    /// <summary>Which collaborative item model the build chose (item-kNN or EASE).</summary>
    public CollaborativeModel ItemModel { get; init; } = CollaborativeModel.Knn;

    /// <summary>What the build chose and measured (data clock, decay, blend, validation score).</summary>
    public ModelTuning Tuning { get; init; } = ModelTuning.Default;

    /// <summary>Item vectors of the embedding source (empty when the build made none).</summary>
    public ItemEmbeddingIndex Embeddings { get; init; } = ItemEmbeddingIndex.Empty;

    /// <summary>Every part, ready to publish (<see cref="ModelParts.All"/>).</summary>
    public IReadOnlyList<PartWrite> Writes() => [.. ModelParts.All.Select(part => part.WriteFrom(this))];
}

/// <summary>
/// Builds every part from one dataset, sharing one interaction matrix, with the same builders and the same tuning the
/// Refresher's jobs use (the evaluator and benchmarks use it). Time is the data's clock: the newest interaction.
/// </summary>
public static class GlobalModelBuilder
{
    /// <summary>The data's clock: the newest interaction of <paramref name="dataset"/> (the wall clock when there is none).</summary>
    public static DateTime DataClock(Dataset dataset) => ModelTuning.NewestEvent(dataset.Interactions) ?? DateTime.UtcNow;

    public static GlobalModel Build(Dataset dataset, RecommendationOptions options) => Build(dataset, options, DataClock(dataset));

    public static GlobalModel Build(Dataset dataset, RecommendationOptions options, DateTime asOf)
    {
        var matrix = InteractionMatrix.Build(dataset, options, asOf);
        var (itemNeighbors, tuning) = ItemNeighborBuilder.BuildTuned(dataset, matrix, options, asOf);
        var popularityOptions = options.ForPopularity();
        var popularityMatrix = ReferenceEquals(popularityOptions, options) ? matrix : InteractionMatrix.Build(dataset, popularityOptions, asOf);
        return new GlobalModel(
            PopularityBuilder.BuildPopularity(popularityMatrix, dataset.Users, options),
            PopularityBuilder.BuildTrending(dataset, options, asOf),
            itemNeighbors,
            UserModelBuilder.BuildNeighbors(matrix, options),
            UserModelBuilder.BuildProfiles(matrix, options))
        {
            ItemModel = tuning.ItemModel == "ease" ? CollaborativeModel.Ease : CollaborativeModel.Knn,
            Tuning = tuning,
            Embeddings = ItemEmbeddingBuilder.Build(dataset, matrix, options, tuning, asOf),
        };
    }
}
