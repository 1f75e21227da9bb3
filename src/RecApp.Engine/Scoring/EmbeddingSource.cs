using RecApp.Engine.Model;

namespace RecApp.Engine.Scoring;

/// <summary>
/// Embeddings: the history folded into a user vector against the build's item vectors (implicit ALS), the
/// <see cref="RecApp.Engine.EmbeddingOptions.Candidates"/> items with the highest dot product.
/// </summary>
public sealed class EmbeddingSource(RecommendationOptions options) : ICandidateSource
{
    public string Name => BlendWeights.EmbeddingsSource;

    public Dictionary<long, float> Propose(CandidateContext context) =>
        context.Snapshot.Embeddings.Recommend(context.History, options.Embeddings.Candidates, context.Allowed, context.Scratch.Scores());
}
