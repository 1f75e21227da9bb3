using RecApp.Recommendations.Data;

namespace RecApp.Recommendations.Model;

/// <summary>Every part of the global model, in id space: what the jobs store and the snapshot indexes.</summary>
public sealed record GlobalModel(
    PopularityModel Popularity, TrendingModel Trending, ItemNeighborModel ItemNeighbors, UserNeighborModel UserNeighbors, ProfileModel Profiles)
{
    /// <summary>Which collaborative item model the build chose (item-kNN or EASE).</summary>
    public CollaborativeModel ItemModel { get; init; } = CollaborativeModel.Knn;
}

/// <summary>Builds every part from one dataset, sharing one interaction matrix (the evaluator and benchmarks use it).</summary>
public static class GlobalModelBuilder
{
    public static GlobalModel Build(Dataset dataset, RecommendationOptions options, DateTime asOf)
    {
        var matrix = InteractionMatrix.Build(dataset, options, asOf);
        var collaborative = ItemNeighborBuilder.ChooseCollaborative(matrix, options, out var chosen);
        return new GlobalModel(
            PopularityBuilder.BuildPopularity(matrix, dataset.Users, options),
            PopularityBuilder.BuildTrending(dataset, options, asOf),
            new ItemNeighborModel(collaborative, ItemNeighborBuilder.Content(matrix, options)),
            UserModelBuilder.BuildNeighbors(matrix, options),
            UserModelBuilder.BuildProfiles(matrix, options))
        {
            ItemModel = chosen,
        };
    }
}
