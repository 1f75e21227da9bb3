using RecApp.Engine.Model;
using RecApp.Engine.Embeddings;
using RecApp.Data;
using RecApp.Data.Models;

namespace RecApp.Api.Recommendations;

/// <summary>
/// A model part the answer needs has not been published yet (a new deployment before its first jobs finished).
/// Answered 503 with Retry-After by the exception handler, never cached.
/// </summary>
public sealed class ModelNotReadyException(string message) : Exception(message);

/// <summary>
/// Which answers the served model can give honestly. Before the first build the snapshot has no parts, and the engine
/// would answer an empty list labelled with the tier it meant to use (an empty "collaborative" list for a user with
/// history), which the cache would then keep for the whole model version.
/// </summary>
public static class ModelReadiness
{
    /// <summary>The content and collaborative tiers rank from item neighbors and fall back on popularity.</summary>
    public static bool CanPersonalize(ModelSnapshot snapshot) =>
        snapshot.Has(ModelParts.Popularity.Name) && snapshot.Has(ModelParts.ItemNeighbors.Name);

    /// <summary>Throws unless the popular lists exist: without them there is nothing true to answer a user with.</summary>
    public static void RequirePopular(ModelSnapshot snapshot)
    {
        if (!snapshot.Has(ModelParts.Popularity.Name))
        {
            throw new ModelNotReadyException("No model has been built yet: the first popular-items job has not finished. Retry later.");
        }
    }

    public static void RequireSimilarities(ModelSnapshot snapshot)
    {
        if (!snapshot.Has(ModelParts.ItemNeighbors.Name))
        {
            throw new ModelNotReadyException("Item similarities are not computed yet: the first similarities job has not finished. Retry later.");
        }
    }
}
