using RecApp.Engine.Domain;
using RecApp.Engine.Embeddings;

namespace RecApp.Engine.Model;

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
}
