namespace RecApp.Engine.Embeddings;

/// <summary>Item indices best first (score descending, index ascending on ties) with their scores.</summary>
public sealed record ScoredIndices(int[] Indices, float[] Scores)
{
    public static readonly ScoredIndices Empty = new([], []);

    /// <summary>The same list in item ids (index i → <paramref name="itemIds"/>[i]), the engine's neighbor-list shape.</summary>
    public ScoredIds ToScoredIds(IReadOnlyList<long> itemIds) => new(Array.ConvertAll(Indices, i => itemIds[i]), Scores);
}
