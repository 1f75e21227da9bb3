using System.Buffers;

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
    public Dictionary<long, float> Recommend(IReadOnlyDictionary<long, float> history, int count, Func<long, bool> allowed) =>
        Recommend(history, count, allowed, []);

    /// <summary>The same into <paramref name="result"/> (empty); every working buffer pooled (the embedding source runs on every miss).</summary>
    internal Dictionary<long, float> Recommend(IReadOnlyDictionary<long, float> history, int count, Func<long, bool> allowed, Dictionary<long, float> result)
    {
        if (Vectors is null || count <= 0 || history.Count == 0)
        {
            return result;
        }
        var indices = ArrayPool<int>.Shared.Rent(history.Count);
        var values = ArrayPool<float>.Shared.Rent(history.Count);
        var user = ArrayPool<float>.Shared.Rent(Vectors.Factors);
        var fetch = OverFetch(count);
        var bestIndices = ArrayPool<int>.Shared.Rent(fetch);
        var bestScores = ArrayPool<float>.Shared.Rent(fetch);
        try
        {
            // Distinct indices in ascending order, each with its weight (the fold-in's input).
            var known = 0;
            foreach (var (id, weight) in history)
            {
                if (_index.TryGetValue(id, out var i))
                {
                    (indices[known], values[known]) = (i, weight);
                    known++;
                }
            }
            if (known == 0)
            {
                return result;
            }
            Array.Sort(indices, values, 0, known);
            var vector = user.AsSpan(0, Vectors.Factors);
            Vectors.FoldIn(indices.AsSpan(0, known), values.AsSpan(0, known), vector);
            // A first, shallow fetch is enough when the filter drops only a few (no request filter); otherwise the deep one
            // runs. Both are prefixes of one total order (score, then index), so the answer is the deep fetch's either way.
            var shallow = ShallowFetch(count);
            if (shallow < fetch)
            {
                var first = Vectors.Recommend(vector, indices.AsSpan(0, known), bestIndices.AsSpan(0, shallow), bestScores.AsSpan(0, shallow));
                Admitted(bestIndices.AsSpan(0, first), bestScores.AsSpan(0, first), count, allowed, result);
                if (result.Count == count || first < shallow)
                {
                    return result;
                }
                result.Clear();
            }
            var found = Vectors.Recommend(vector, indices.AsSpan(0, known), bestIndices.AsSpan(0, fetch), bestScores.AsSpan(0, fetch));
            return Admitted(bestIndices.AsSpan(0, found), bestScores.AsSpan(0, found), count, allowed, result);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(bestScores);
            ArrayPool<int>.Shared.Return(bestIndices);
            ArrayPool<float>.Shared.Return(user);
            ArrayPool<float>.Shared.Return(values);
            ArrayPool<int>.Shared.Return(indices);
        }
    }

    /// <summary>Up to <paramref name="count"/> items closest to <paramref name="itemId"/> by cosine, each admitted by <paramref name="allowed"/>.</summary>
    public Dictionary<long, float> Similar(long itemId, int count, Func<long, bool> allowed)
    {
        if (Vectors is null || count <= 0 || !_index.TryGetValue(itemId, out var index))
        {
            return [];
        }
        var best = Vectors.Similar(index, OverFetch(count), []);
        return Admitted(best.Indices, best.Scores, count, allowed, []);
    }

    /// <summary>How many to fetch for <paramref name="count"/>: the filter (seen items, request filters, inactive items) may drop some of the best.</summary>
    private int OverFetch(int count) => Math.Min(Count, 2 * count + 50);

    /// <summary>
    /// The first fetch of <see cref="Recommend(IReadOnlyDictionary{long, float}, int, Func{long, bool}, Dictionary{long, float})"/>:
    /// room for the inactive items and for seen items older than the history read. At S, keying and sorting 266 of 16,000
    /// items instead of 450 took the source from 185 to 152 µs per user (<c>MissBenchmarks.SourceEmbeddings</c>, side by side).
    /// </summary>
    private int ShallowFetch(int count) => Math.Min(Count, count + count / 4 + 16);

    /// <summary>The first <paramref name="count"/> of the best items that <paramref name="allowed"/> admits, by item id, into <paramref name="result"/>.</summary>
    private Dictionary<long, float> Admitted(
        ReadOnlySpan<int> bestIndices, ReadOnlySpan<float> bestScores, int count, Func<long, bool> allowed, Dictionary<long, float> result)
    {
        for (var k = 0; k < bestIndices.Length && result.Count < count; k++)
        {
            var id = ItemIds[bestIndices[k]];
            if (allowed(id))
            {
                result[id] = bestScores[k];
            }
        }
        return result;
    }
}
