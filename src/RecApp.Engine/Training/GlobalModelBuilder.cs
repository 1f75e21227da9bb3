using RecApp.Engine.Domain;
using RecApp.Engine.Embeddings;
using RecApp.Engine.Model;

namespace RecApp.Engine.Training;

/// <summary>
/// Builds every part from one dataset, sharing its interaction matrices (one per decay half-life: <see cref="DecayedMatrices"/>),
/// with the same builders and the same tuning the Refresher's jobs use (the evaluator and benchmarks use it). Time is the
/// data's clock: the newest interaction.
/// </summary>
public static class GlobalModelBuilder
{
    /// <summary>The data's clock: the newest interaction of <paramref name="dataset"/> (the wall clock when there is none).</summary>
    public static DateTime DataClock(Dataset dataset) => ModelTuning.NewestEvent(dataset.Interactions) ?? DateTime.UtcNow;

    public static GlobalModel Build(Dataset dataset, RecommendationOptions options) => Build(dataset, options, DataClock(dataset));

    /// <summary>
    /// The similarities job's parts from one interaction matrix: item neighbors with what the tuning chose (the model,
    /// λ, decay, blend), user neighbors, and item embeddings (fitted only when the tuning kept them). With
    /// <paramref name="kept"/>, an earlier search's choices are used and nothing is searched.
    /// </summary>
    /// <param name="kept">An earlier search's choices to build with instead of searching (null: search).</param>
    /// <param name="previous">The last build's embedding vectors, for a build that keeps the choices to start from.</param>
    public static SimilarityParts BuildSimilarities(
        Dataset dataset, RecommendationOptions options, DateTime asOf, TunedChoices? kept = null, EmbeddingFactors? previous = null) =>
        BuildSimilarities(new DecayedMatrices(dataset, options, asOf), dataset, options, asOf, kept, previous);

    /// <param name="previous">
    /// An earlier build's similarities: this build is the Refresher's later build, which keeps that build's choices and
    /// starts its embedding fit from that build's vectors (null: a first build, which searches).
    /// </param>
    public static GlobalModel Build(Dataset dataset, RecommendationOptions options, DateTime asOf, SimilarityParts? previous = null)
    {
        var matrices = new DecayedMatrices(dataset, options, asOf);
        var similarities = BuildSimilarities(matrices, dataset, options, asOf, previous?.Choices, previous?.Factors);
        return new GlobalModel(
            PopularityBuilder.BuildPopularity(matrices.WithHalfLife(options.Popularity.HalfLifeDays), dataset.Users, options),
            PopularityBuilder.BuildTrending(dataset, options, asOf),
            similarities.ItemNeighbors,
            similarities.UserNeighbors,
            UserModelBuilder.BuildProfiles(matrices.Configured, options))
        {
            ItemModel = similarities.Tuning.ItemModel == "ease" ? CollaborativeModel.Ease : CollaborativeModel.Knn,
            Tuning = similarities.Tuning,
            Embeddings = similarities.Embeddings,
        };
    }

    private static SimilarityParts BuildSimilarities(
        DecayedMatrices matrices, Dataset dataset, RecommendationOptions options, DateTime asOf, TunedChoices? kept, EmbeddingFactors? previous)
    {
        var (collaborative, tuning, easeTooLarge) = kept is null
            ? ModelTuner.Tune(dataset, matrices, options, asOf)
            : ModelTuner.Refit(matrices, options, kept, asOf);
        // The rest needs the tuning's choices at most. Each part is parallel inside; side by side they also fill each
        // other's serial stretches (the embeddings' decayed matrix, dictionaries).
        var matrix = matrices.Configured;
        var content = Task.Run(() => ItemNeighborBuilder.Content(matrix, options));
        var userNeighbors = Task.Run(() => UserModelBuilder.BuildNeighbors(matrix, options));
        // A search may choose another decay or blend: only a build that keeps the choices starts from the last fit.
        var (embeddings, factors, warmStarted) = ItemEmbeddingBuilder.Fit(matrices, options, tuning, kept is null ? null : previous);
        tuning = tuning with
        {
            ScaleChoices = ScaleChoices.Describe(matrix, options, tuning, easeTooLarge, embeddings),
            EmbeddingsWarmStarted = warmStarted,
        };
        return new SimilarityParts(new ItemNeighborModel(collaborative, content.Result), userNeighbors.Result, embeddings, tuning)
        {
            Choices = kept ?? new TunedChoices(tuning with { ScaleChoices = null }, easeTooLarge, dataset.Interactions.Length),
            Factors = factors,
        };
    }
}

/// <summary>What the similarities job builds and publishes, and the choices it was built with (for later builds to keep).</summary>
public sealed record SimilarityParts(ItemNeighborModel ItemNeighbors, UserNeighborModel UserNeighbors, ItemEmbeddingIndex Embeddings, ModelTuning Tuning)
{
    public required TunedChoices Choices { get; init; }

    /// <summary>The embedding fit's vectors by id, for the next build to start from (null when that would save nothing).</summary>
    public EmbeddingFactors? Factors { get; init; }
}
