using RecApp.Recommendations.Data;

namespace RecApp.Recommendations.Model.Embeddings;

/// <summary>Fits the embedding source on the engine's interaction matrix (the same cell weights every source uses).</summary>
internal static class ItemEmbeddingBuilder
{
    /// <summary>
    /// The served embedding source: fitted on cell weights decayed with the half-life the build's tuning chose, the one
    /// scoring folds histories in with (trained on other weights, fold-in would place users wrongly: on MovieLens, vectors
    /// fitted on 30-day-decayed weights and folded in without decay scored 0.227 nDCG@10 against 0.406).
    /// </summary>
    public static ItemEmbeddingIndex Build(Dataset dataset, InteractionMatrix matrix, RecommendationOptions options, ModelTuning tuning, DateTime asOf)
    {
        var halfLife = tuning.DecayHalfLifeDays ?? options.DecayHalfLifeDays;
        return Build(halfLife == options.DecayHalfLifeDays ? matrix : InteractionMatrix.Build(dataset, options.WithDecay(halfLife), asOf), options);
    }

    public static ItemEmbeddingIndex Build(InteractionMatrix matrix, RecommendationOptions options, CancellationToken cancellationToken = default)
    {
        if (options.EmbeddingFactors == 0 || matrix.UserCount == 0 || matrix.ItemCount == 0)
        {
            return ItemEmbeddingIndex.Empty;
        }
        var input = ImplicitFeedbackMatrix.FromInteractionMatrix(matrix);
        var settings = new ImplicitAlsSettings { Factors = options.EmbeddingFactors, Iterations = options.EmbeddingIterations }.FitTo(input);
        var items = ImplicitAlsBuilder.Build(input, settings, cancellationToken).Items;

        // Only items someone interacted with have a fitted vector (the rest solve to zero): those are kept.
        var kept = Enumerable.Range(0, matrix.ItemCount).Where(i => matrix.ItemUserCount[i] > 0).ToArray();
        var k = settings.Factors;
        var vectors = new float[kept.Length * k];
        for (var n = 0; n < kept.Length; n++)
        {
            items.Vector(kept[n]).CopyTo(vectors.AsSpan(n * k, k));
        }
        return ItemEmbeddingIndex.Create([.. kept.Select(i => matrix.ItemIds[i])], vectors, settings);
    }
}
