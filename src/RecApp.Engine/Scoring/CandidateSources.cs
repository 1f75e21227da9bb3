using RecApp.Engine.Model;

namespace RecApp.Engine.Scoring;

/// <summary>The blend tier's candidate sources, in <see cref="BlendWeights.SourceNames"/> order (the order the fusion adds them).</summary>
public sealed class CandidateSources
{
    public CandidateSources(RecommendationOptions options)
    {
        ItemNeighbors = new ItemNeighborSource();
        UserNeighbors = new UserNeighborSource();
        Content = new ContentSource(options);
        Popular = new PopularSource(options);
        Embeddings = new EmbeddingSource(options);
        All = [ItemNeighbors, UserNeighbors, Content, Popular, Embeddings];
        for (var s = 0; s < All.Count; s++)
        {
            if (All[s].Name != BlendWeights.SourceNames[s])
            {
                throw new InvalidOperationException($"Candidate source {s} is {All[s].Name}, the blend weighs {BlendWeights.SourceNames[s]} there.");
            }
        }
    }

    public ItemNeighborSource ItemNeighbors { get; }
    public UserNeighborSource UserNeighbors { get; }
    public ContentSource Content { get; }
    public PopularSource Popular { get; }
    public EmbeddingSource Embeddings { get; }

    /// <summary>Every source, positioned like the blend's weights.</summary>
    public IReadOnlyList<ICandidateSource> All { get; }
}
