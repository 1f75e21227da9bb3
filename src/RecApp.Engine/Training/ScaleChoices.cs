using System.Globalization;
using RecApp.Engine.Embeddings;
using RecApp.Engine.Model;

namespace RecApp.Engine.Training;

/// <summary>
/// What the build did differently because of the data's size, in words for the tuning record (<c>/stats</c>): where an
/// exact algorithm would grow faster than the data (EASE inverts a square matrix of items or users; co-occurrence through
/// a popular item grows with the square of its users), the build samples or picks another one, and says so here.
/// </summary>
internal static class ScaleChoices
{
    public static string? Describe(InteractionMatrix matrix, RecommendationOptions options, ModelTuning tuning, bool easeTooLarge, ItemEmbeddingIndex embeddings)
    {
        var neighbors = options.Neighbors;
        var choices = new List<string>();
        if (easeTooLarge)
        {
            choices.Add(Format($"item model item-kNN: EASE does not fit {matrix.ItemCount:N0} items and {matrix.UserCount:N0} users (EaseMaxItems {neighbors.EaseMaxItems:N0})"));
        }
        // The counts are over all of each item's users, an upper bound: the builders sample from users' newest items only.
        var popularForItemKnn = matrix.ItemUserCount.Count(c => c > neighbors.MaxUsersPerItem);
        if (tuning.ItemModel == "knn" && popularForItemKnn > 0)
        {
            choices.Add(Format($"item-kNN scores items with more than {neighbors.MaxUsersPerItem:N0} users (up to {popularForItemKnn:N0} items here) from an even sample of their users"));
        }
        var popularForUserKnn = matrix.ItemUserCount.Count(c => c > neighbors.UserNeighborItemUsers);
        if (neighbors.MaxSimilarUsers > 0 && popularForUserKnn > 0)
        {
            choices.Add(Format($"user neighbors meet through an even sample of the users of items with more than {neighbors.UserNeighborItemUsers:N0} users (up to {popularForUserKnn:N0} items here)"));
        }
        if (embeddings.Vectors?.Settings is { } fitted
            && (fitted.Factors < options.Embeddings.Factors || fitted.Iterations < options.Embeddings.Iterations))
        {
            choices.Add(Format($"embeddings {fitted.Factors} factors × {fitted.Iterations} iterations (configured {options.Embeddings.Factors} × {options.Embeddings.Iterations}) within the build budget of {options.Embeddings.BuildBudget:0.#e0} multiply-adds"));
        }
        return choices.Count == 0 ? null : string.Join("; ", choices);
    }

    private static string Format(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
