using System.Globalization;
using RecApp.Engine.Embeddings;
using RecApp.Engine.Model;

namespace RecApp.Engine.Training;

/// <summary>
/// What the build did differently because of the data's size, in words for the tuning record (<c>/stats</c>): where an
/// exact algorithm would grow faster than the data (EASE inverts an items × items matrix; co-occurrence through a
/// popular item grows with the square of its users), the build samples or picks another one, and says so here.
/// </summary>
internal static class ScaleChoices
{
    public static string? Describe(InteractionMatrix matrix, RecommendationOptions options, ItemEmbeddingIndex embeddings)
    {
        var neighbors = options.Neighbors;
        var choices = new List<string>();
        if (neighbors.CollaborativeModel != CollaborativeModel.Knn && matrix.ItemCount > neighbors.EaseMaxItems)
        {
            choices.Add(Format($"item model item-kNN: EASE needs at most {neighbors.EaseMaxItems:N0} items, the data has {matrix.ItemCount:N0}"));
        }
        var overItemKnn = matrix.ItemUserCount.Count(c => c > neighbors.MaxUsersPerItem);
        if (overItemKnn > 0)
        {
            choices.Add(Format($"item-kNN scores {overItemKnn:N0} items with more than {neighbors.MaxUsersPerItem:N0} users from an even sample of them"));
        }
        var overUserKnn = matrix.ItemUserCount.Count(c => c > neighbors.UserNeighborItemUsers);
        if (overUserKnn > 0 && neighbors.MaxSimilarUsers > 0)
        {
            choices.Add(Format($"user neighbors meet through {overUserKnn:N0} items with more than {neighbors.UserNeighborItemUsers:N0} users by an even sample of them"));
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
