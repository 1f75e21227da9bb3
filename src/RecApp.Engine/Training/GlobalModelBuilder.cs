using RecApp.Engine.Domain;
using RecApp.Engine.Embeddings;
using RecApp.Engine.Model;

namespace RecApp.Engine.Training;

/// <summary>
/// Builds every part from one dataset, sharing one interaction matrix, with the same builders and the same tuning the
/// Refresher's jobs use (the evaluator and benchmarks use it). Time is the data's clock: the newest interaction.
/// </summary>
public static class GlobalModelBuilder
{
    /// <summary>The data's clock: the newest interaction of <paramref name="dataset"/> (the wall clock when there is none).</summary>
    public static DateTime DataClock(Dataset dataset) => ModelTuning.NewestEvent(dataset.Interactions) ?? DateTime.UtcNow;

    public static GlobalModel Build(Dataset dataset, RecommendationOptions options) => Build(dataset, options, DataClock(dataset));

    /// <summary>
    /// The similarities job's parts from one interaction matrix: item neighbors with what the tuning chose (the model,
    /// λ, decay, blend), user neighbors, and item embeddings (fitted only when the tuning kept them).
    /// </summary>
    public static SimilarityParts BuildSimilarities(Dataset dataset, RecommendationOptions options, DateTime asOf)
    {
        var matrix = InteractionMatrix.Build(dataset, options, asOf);
        var (itemNeighbors, tuning) = ItemNeighborBuilder.BuildTuned(dataset, matrix, options, asOf);
        return new SimilarityParts(
            itemNeighbors,
            UserModelBuilder.BuildNeighbors(matrix, options),
            ItemEmbeddingBuilder.Build(dataset, matrix, options, tuning, asOf),
            tuning);
    }

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

/// <summary>What the similarities job builds and publishes.</summary>
public sealed record SimilarityParts(ItemNeighborModel ItemNeighbors, UserNeighborModel UserNeighbors, ItemEmbeddingIndex Embeddings, ModelTuning Tuning);
