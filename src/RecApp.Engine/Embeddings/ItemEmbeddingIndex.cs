namespace RecApp.Engine.Embeddings;

/// <summary>
/// The served embedding source: item vectors of the implicit-feedback factorisation (<see cref="ImplicitAlsBuilder"/>)
/// by item id. A user's vector is folded in from their current history at scoring time (the same exact solve as a
/// training row, so fresh events count at once and evaluation and serving run the same code); candidates are the exact
/// top items by dot product (<see cref="ItemEmbeddings"/> says where an approximate index would take over). Immutable.
/// </summary>
public sealed class ItemEmbeddingIndex
{
    private readonly Dictionary<long, int> _index;

    public ItemEmbeddingIndex(long[] itemIds, ItemEmbeddings? vectors)
    {
        ArgumentNullException.ThrowIfNull(itemIds);
        if (vectors is not null && vectors.Count != itemIds.Length)
        {
            throw new ArgumentException($"Expected one vector per item id ({itemIds.Length}), got {vectors.Count}.", nameof(vectors));
        }
        ItemIds = itemIds;
        Vectors = vectors;
        _index = new Dictionary<long, int>(itemIds.Length);
        for (var i = 0; i < itemIds.Length; i++)
        {
            _index[itemIds[i]] = i;
        }
    }

    public static ItemEmbeddingIndex Empty { get; } = new([], null);

    /// <summary>
    /// The index over <paramref name="vectors"/> (row i for <c>itemIds[i]</c>, row-major): the Gramian is computed here, the
    /// same way after a build and after a load, so the served and the evaluated fold-in are bit-identical. Every item may
    /// be returned: the catalog and the request decide what is served.
    /// </summary>
    public static ItemEmbeddingIndex Create(long[] itemIds, float[] vectors, ImplicitAlsSettings settings)
    {
        var gram = ImplicitAlsSolver.Gramian(vectors, itemIds.Length, settings.Factors, settings.MaxDegreeOfParallelism);
        var candidate = new bool[itemIds.Length];
        Array.Fill(candidate, true);
        return new ItemEmbeddingIndex(itemIds, new ItemEmbeddings(vectors, itemIds.Length, settings.Factors, gram, candidate, settings));
    }

    public long[] ItemIds { get; }

    /// <summary>The vectors, row i for <c>ItemIds[i]</c>; null when the build made none (the source then proposes nothing).</summary>
    public ItemEmbeddings? Vectors { get; }

    public int Count => ItemIds.Length;

    /// <summary>
    /// Up to <paramref name="count"/> items for a history (item id → weight, the engine's <c>log(1 + Σ type weight × decay)</c>,
    /// the confidence values the vectors were trained with), best first, each admitted by <paramref name="allowed"/>.
    /// History items the vectors do not know are left out of the fold-in. Empty when nothing in the history is known.
    /// </summary>
    public Dictionary<long, float> Recommend(IReadOnlyDictionary<long, float> history, int count, Func<long, bool> allowed)
    {
        if (Vectors is null || count <= 0 || history.Count == 0)
        {
            return [];
        }
        // Distinct indices in ascending order, each with its weight (the fold-in's input).
        var known = new List<(int Index, float Value)>(history.Count);
        foreach (var (id, weight) in history)
        {
            if (_index.TryGetValue(id, out var i))
            {
                known.Add((i, weight));
            }
        }
        if (known.Count == 0)
        {
            return [];
        }
        known.Sort(static (a, b) => a.Index.CompareTo(b.Index));
        var indices = new int[known.Count];
        var values = new float[known.Count];
        for (var k = 0; k < known.Count; k++)
        {
            (indices[k], values[k]) = known[k];
        }
        var user = Vectors.FoldIn(indices, values);
        return Admitted(Vectors.Recommend(user, OverFetch(count), indices), count, allowed);
    }

    /// <summary>Up to <paramref name="count"/> items closest to <paramref name="itemId"/> by cosine, each admitted by <paramref name="allowed"/>.</summary>
    public Dictionary<long, float> Similar(long itemId, int count, Func<long, bool> allowed)
    {
        if (Vectors is null || count <= 0 || !_index.TryGetValue(itemId, out var index))
        {
            return [];
        }
        return Admitted(Vectors.Similar(index, OverFetch(count), []), count, allowed);
    }

    /// <summary>How many to fetch for <paramref name="count"/>: the filter (seen items, request filters, inactive items) may drop some of the best.</summary>
    private int OverFetch(int count) => Math.Min(Count, 2 * count + 50);

    /// <summary>The first <paramref name="count"/> of <paramref name="best"/> that <paramref name="allowed"/> admits, by item id.</summary>
    private Dictionary<long, float> Admitted(ScoredIndices best, int count, Func<long, bool> allowed)
    {
        var result = new Dictionary<long, float>();
        for (var k = 0; k < best.Indices.Length && result.Count < count; k++)
        {
            var id = ItemIds[best.Indices[k]];
            if (allowed(id))
            {
                result[id] = best.Scores[k];
            }
        }
        return result;
    }
}
