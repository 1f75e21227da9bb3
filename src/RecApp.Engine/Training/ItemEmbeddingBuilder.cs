using RecApp.Engine.Domain;
using RecApp.Engine.Embeddings;
using RecApp.Engine.Model;

namespace RecApp.Engine.Training;

/// <summary>Fits the embedding source on the engine's interaction matrix (the same cell weights every source uses).</summary>
internal static class ItemEmbeddingBuilder
{
    /// <summary>
    /// The served embedding source: fitted on cell weights decayed with the half-life the build's tuning chose, the one
    /// scoring folds histories in with (trained on other weights, fold-in would place users wrongly: on MovieLens, vectors
    /// fitted on 30-day-decayed weights and folded in without decay scored 0.227 nDCG@10 against 0.406).
    /// </summary>
    public static ItemEmbeddingIndex Build(DecayedMatrices matrices, RecommendationOptions options, ModelTuning tuning) =>
        Fit(matrices, options, tuning, previous: null).Index;

    /// <summary>
    /// <see cref="Build(DecayedMatrices, RecommendationOptions, ModelTuning)"/> started from <paramref name="previous"/>, an
    /// earlier fit made with the same choices, when that saves sweeps (<see cref="EmbeddingOptions.WarmIterations"/>); also
    /// the fit's vectors by id for the next build to start from (null when a warm start would not be cheaper, so nothing
    /// is held for it), and whether this fit started warm.
    /// </summary>
    public static (ItemEmbeddingIndex Index, EmbeddingFactors? Factors, bool WarmStarted) Fit(
        DecayedMatrices matrices, RecommendationOptions options, ModelTuning tuning, EmbeddingFactors? previous)
    {
        if (tuning.Blend is { Embeddings: 0f })
        {
            return (ItemEmbeddingIndex.Empty, null, false); // the tuning left the source out of the blend
        }
        var matrix = matrices.WithHalfLife(tuning.DecayHalfLifeDays ?? options.History.DecayHalfLifeDays);
        if (NothingToFit(matrix, options))
        {
            return (ItemEmbeddingIndex.Empty, null, false);
        }
        var settings = Settings(matrix, options);
        var warm = options.Embeddings.WarmIterations;
        var start = previous?.StartFor(matrix, settings, warm);
        var model = Fit(matrix, settings, start);
        var factors = EmbeddingFactors.SavesSweeps(warm, settings) ? EmbeddingFactors.Of(matrix, model) : null;
        return (Index(matrix, model, settings), factors, start is not null);
    }

    /// <summary>The settings for <paramref name="matrix"/>: the configured ones, cheaper when the data is large.</summary>
    public static ImplicitAlsSettings Settings(InteractionMatrix matrix, RecommendationOptions options) =>
        new ImplicitAlsSettings { Factors = Math.Max(1, options.Embeddings.Factors), Iterations = options.Embeddings.Iterations }
            .FitTo(matrix.ToImplicitFeedback(), options.Embeddings.BuildBudget);

    /// <summary>
    /// Fits the source on <paramref name="matrix"/> with <paramref name="settings"/> (default: <see cref="Settings"/> of the
    /// matrix itself; the tuning passes the full data's, so the validation model is fitted like the served one).
    /// </summary>
    public static ItemEmbeddingIndex Build(
        InteractionMatrix matrix, RecommendationOptions options, ImplicitAlsSettings? settings = null, CancellationToken cancellationToken = default)
    {
        if (NothingToFit(matrix, options))
        {
            return ItemEmbeddingIndex.Empty;
        }
        settings ??= Settings(matrix, options);
        return Index(matrix, Fit(matrix, settings, null, cancellationToken), settings);
    }

    /// <summary>The source is off (0 factors) or the matrix has no user or no item: no fit, an empty index.</summary>
    private static bool NothingToFit(InteractionMatrix matrix, RecommendationOptions options) =>
        options.Embeddings.Factors == 0 || matrix.UserCount == 0 || matrix.ItemCount == 0;

    private static ImplicitAlsModel Fit(
        InteractionMatrix matrix, ImplicitAlsSettings settings, ImplicitAlsStart? start, CancellationToken cancellationToken = default) =>
        ImplicitAlsBuilder.Build(matrix.ToImplicitFeedback(), settings, cancellationToken, start);

    private static ItemEmbeddingIndex Index(InteractionMatrix matrix, ImplicitAlsModel model, ImplicitAlsSettings settings)
    {
        var items = model.Items;
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
