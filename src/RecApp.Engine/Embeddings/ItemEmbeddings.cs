using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace RecApp.Engine.Embeddings;

/// <summary>
/// One k-dimensional vector per item index, with exact top-K retrieval: a query estimates every item's dot product
/// (four rows per pass), i.e. items × k multiply-adds (100k items × 64 factors = 6.4M, well under a millisecond on one
/// core), takes the exact score of the items near the sampled bound of the K-th best, and selects the best K by key
/// (<see cref="BestFirst"/>). That is fine up to a few hundred
/// thousand items; past ~1M items, or when a query must stay well under a millisecond, an approximate index (HNSW over
/// these vectors, with inner product for recommendations and cosine for similar items) would take over and only
/// re-rank its few hundred candidates exactly here.
/// Immutable and thread-safe.
/// </summary>
public sealed class ItemEmbeddings
{
    private readonly float[] _vectors;
    private readonly float[] _unitVectors;
    private readonly float[] _gram;
    private readonly bool[] _candidate;

    // The exact fold-in's working space (a k × k matrix of doubles, 32 KB at k = 64) per thread: a solve runs start to
    // end on one thread and overwrites everything it reads, so reuse cannot carry anything from one user to the next.
    [ThreadStatic]
    private static ImplicitAlsSolver.Scratch? t_foldInScratch;

    public ItemEmbeddings(float[] vectors, int count, int factors, float[] gram, bool[] candidate, ImplicitAlsSettings settings)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        ArgumentNullException.ThrowIfNull(gram);
        ArgumentNullException.ThrowIfNull(candidate);
        ArgumentNullException.ThrowIfNull(settings);
        if (vectors.Length != (long)count * factors || gram.Length != factors * factors || candidate.Length != count || settings.Factors != factors)
        {
            throw new ArgumentException($"Expected {count} × {factors} values, a {factors} × {factors} Gramian and {count} candidate flags.");
        }
        _vectors = vectors;
        _gram = gram;
        _candidate = candidate;
        Count = count;
        Factors = factors;
        Settings = settings;
        _unitVectors = new float[vectors.Length];
        for (var i = 0; i < count; i++)
        {
            var vector = vectors.AsSpan(i * factors, factors);
            var norm = TensorPrimitives.Norm(vector);
            _largestNorm = Math.Max(_largestNorm, norm);
            if (norm > 0)
            {
                TensorPrimitives.Divide(vector, norm, _unitVectors.AsSpan(i * factors, factors));
            }
        }
    }

    // The largest item vector's length (unit vectors: at most 1), for the estimates' error bound.
    private readonly float _largestNorm;

    public int Count { get; }
    public int Factors { get; }

    /// <summary>The settings the vectors were fitted with (fold-in uses the same λ, ν and α).</summary>
    public ImplicitAlsSettings Settings { get; }

    /// <summary>All vectors, row-major (item i at <c>[i·k, (i+1)·k)</c>), e.g. to store them.</summary>
    public ReadOnlySpan<float> Values => _vectors;

    /// <summary>YᵀY of the item vectors (k × k, row-major), kept for fold-in.</summary>
    public ReadOnlySpan<float> Gramian => _gram;

    /// <summary>Whether the item may be returned (it had training cells and was not marked ineligible).</summary>
    public bool IsCandidate(int item) => _candidate[item];

    public ReadOnlySpan<float> Vector(int item)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)item, (uint)Count, nameof(item));
        return _vectors.AsSpan(item * Factors, Factors);
    }

    /// <summary>
    /// The vector of a user from a history against these fixed item vectors: the same exact least-squares solve as a
    /// training row (so a user's fresh events count without a rebuild). <paramref name="items"/> are distinct item
    /// indices, <paramref name="values"/> their feedback values (confidence 1 + α·value). Cost O(k³ + n·k²).
    /// </summary>
    public float[] FoldIn(ReadOnlySpan<int> items, ReadOnlySpan<float> values)
    {
        var x = new float[Factors];
        FoldIn(items, values, x);
        return x;
    }

    /// <summary>The same fold-in written to <paramref name="user"/> (<see cref="Factors"/> values).</summary>
    internal void FoldIn(ReadOnlySpan<int> items, ReadOnlySpan<float> values, Span<float> user)
    {
        if (items.Length != values.Length || user.Length != Factors)
        {
            throw new ArgumentException($"One value per item and room for {Factors} values.");
        }
        foreach (var item in items)
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)item, (uint)Count, nameof(items));
        }
        user.Clear();
        if (items.IsEmpty)
        {
            return;
        }
        var lambda = ImplicitAlsSolver.RowRegularization(Settings, items.Length);
        var scratch = t_foldInScratch;
        if (scratch is null || scratch.Residual.Length != Factors)
        {
            t_foldInScratch = scratch = new ImplicitAlsSolver.Scratch(Factors);
        }
        ImplicitAlsSolver.SolveExact(user, _gram, _vectors, items, values, Settings.Alpha, lambda, scratch);
    }

    /// <summary>
    /// The same fold-in by <paramref name="conjugateGradientSteps"/> CG steps from <paramref name="start"/> (e.g. the
    /// user's stored vector, when a few events were added since the build): O(steps·(k² + n·k)) instead of O(k³), so
    /// serving can refresh many users cheaply. Converges to <see cref="FoldIn(ReadOnlySpan{int}, ReadOnlySpan{float})"/>.
    /// </summary>
    public float[] FoldIn(ReadOnlySpan<int> items, ReadOnlySpan<float> values, ReadOnlySpan<float> start, int conjugateGradientSteps)
    {
        if (items.Length != values.Length || start.Length != Factors)
        {
            throw new ArgumentException($"One value per item and a start vector of {Factors} values.");
        }
        ArgumentOutOfRangeException.ThrowIfNegative(conjugateGradientSteps);
        foreach (var item in items)
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)item, (uint)Count, nameof(items));
        }
        var x = new float[Factors];
        if (items.IsEmpty)
        {
            return x;
        }
        start.CopyTo(x);
        var lambda = ImplicitAlsSolver.RowRegularization(Settings, items.Length);
        ImplicitAlsSolver.SolveConjugateGradient(
            x, _gram, _vectors, items, values, Settings.Alpha, lambda, conjugateGradientSteps, new ImplicitAlsSolver.Scratch(Factors));
        return x;
    }

    /// <summary>Writes <c>score[i] = item_i · query</c> for every item.</summary>
    public void Score(ReadOnlySpan<float> query, Span<float> scores)
    {
        if (query.Length != Factors || scores.Length < Count)
        {
            throw new ArgumentException($"Expected a query of {Factors} values and room for {Count} scores.");
        }
        ScoreAll(_vectors, query, scores);
    }

    /// <summary>One dot product per row of <paramref name="vectors"/> (the vectors or their unit versions) with <paramref name="query"/>.</summary>
    private void ScoreAll(float[] vectors, ReadOnlySpan<float> query, Span<float> scores)
    {
        var all = vectors.AsSpan();
        for (var i = 0; i < Count; i++)
        {
            scores[i] = TensorPrimitives.Dot(all.Slice(i * Factors, Factors), query);
        }
    }

    /// <summary>Exact top <paramref name="k"/> candidate items by dot product with a user vector, minus <paramref name="exclude"/>.</summary>
    public ScoredIndices Recommend(ReadOnlySpan<float> user, int k, ReadOnlySpan<int> exclude)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        var (indices, scores) = (new int[Math.Min(k, Count)], new float[Math.Min(k, Count)]);
        return Packed(indices, scores, Recommend(user, exclude, indices, scores));
    }

    /// <summary>
    /// The same top <c>indices.Length</c> written to <paramref name="indices"/> and <paramref name="scores"/>, best first;
    /// returns how many there are.
    /// </summary>
    internal int Recommend(ReadOnlySpan<float> user, ReadOnlySpan<int> exclude, Span<int> indices, Span<float> scores)
    {
        if (user.Length != Factors)
        {
            throw new ArgumentException($"Expected a vector of {Factors} values.", nameof(user));
        }
        return Best(_vectors, user, exclude, self: -1, indices, scores);
    }

    /// <summary>Exact top <paramref name="k"/> candidate items by cosine with <paramref name="item"/> (never itself), minus <paramref name="exclude"/>.</summary>
    public ScoredIndices Similar(int item, int k, ReadOnlySpan<int> exclude)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)item, (uint)Count, nameof(item));
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        var query = _unitVectors.AsSpan(item * Factors, Factors);
        if (TensorPrimitives.Norm(query) == 0)
        {
            return ScoredIndices.Empty;
        }
        var (indices, scores) = (new int[Math.Min(k, Count)], new float[Math.Min(k, Count)]);
        return Packed(indices, scores, Best(_unitVectors, query, exclude, item, indices, scores));
    }

    /// <summary>The first <paramref name="count"/> of a top K written into full-size arrays, as one result.</summary>
    private static ScoredIndices Packed(int[] indices, float[] scores, int count) =>
        count == 0 ? ScoredIndices.Empty : new ScoredIndices(indices[..count], scores[..count]);

    /// <summary>
    /// The best <c>bestIndices.Length</c> candidate items by dot product with <paramref name="query"/> (score descending,
    /// index ascending), minus <paramref name="exclude"/> and <paramref name="self"/>: every item scored into a pooled
    /// buffer, then the best selected by key (<see cref="BestFirst"/>). Returns how many were written.
    /// </summary>
    private int Best(float[] vectors, ReadOnlySpan<float> query, ReadOnlySpan<int> exclude, int self, Span<int> bestIndices, Span<float> bestScores)
    {
        var k = bestIndices.Length;
        if (k == 0 || Count == 0)
        {
            return 0;
        }
        var scores = ArrayPool<float>.Shared.Rent(Count);
        var keys = ArrayPool<ulong>.Shared.Rent(Count);
        try
        {
            if (Count >= SampledBoundMinimumRatio * k && EstimatedBest(vectors, query, exclude, self, k, scores, keys, bestIndices, bestScores) is var found and >= 0)
            {
                return found;
            }
            ScoreAll(vectors, query, scores);
            Exclude(scores, exclude, self);
            // Only items scoring at least a bound below the k-th best become keys: a few times k instead of every item.
            // With fewer than k above it, the bound was too high and every item is keyed, so the result is exact either way.
            var bound = Count >= SampledBoundMinimumRatio * k ? SampledBound(scores, k) : float.NegativeInfinity;
            var n = Keys(scores, bound, keys);
            if (n >= 0 && n < k && bound != float.NegativeInfinity)
            {
                n = Keys(scores, float.NegativeInfinity, keys);
            }
            if (n < 0)
            {
                return BestByHeap(scores, bestIndices, bestScores); // a NaN score: the heap's order, as before keys
            }
            return WriteBest(keys, n, scores, bestIndices, bestScores);
        }
        finally
        {
            ArrayPool<ulong>.Shared.Return(keys);
            ArrayPool<float>.Shared.Return(scores);
        }
    }

    /// <summary>Takes the excluded items and <paramref name="self"/> (−1: none) out of the ranking.</summary>
    private void Exclude(float[] scores, ReadOnlySpan<int> exclude, int self)
    {
        foreach (var excluded in exclude)
        {
            if ((uint)excluded < (uint)Count)
            {
                scores[excluded] = float.NegativeInfinity;
            }
        }
        if (self >= 0)
        {
            scores[self] = float.NegativeInfinity;
        }
    }

    /// <summary>The best <c>bestIndices.Length</c> of the first <paramref name="n"/> keys, best first, with their scores; how many.</summary>
    private static int WriteBest(ulong[] keys, int n, float[] scores, Span<int> bestIndices, Span<float> bestScores)
    {
        var count = BestFirst.SortBest(keys.AsSpan(0, n), [], bestIndices.Length);
        for (var j = 0; j < count; j++)
        {
            var index = (int)BestFirst.IdOf(keys[j]);
            (bestIndices[j], bestScores[j]) = (index, scores[index]);
        }
        return count;
    }

    /// <summary>
    /// <see cref="Best"/> from estimated scores, with the same answer: every item is estimated (<see cref="EstimateAll"/>),
    /// the bound is sampled from the estimates, and each item whose estimate is within <see cref="EstimateSlack"/> of the
    /// bound gets its exact score (the same <see cref="TensorPrimitives.Dot"/> as <see cref="ScoreAll"/>). That set holds
    /// every item whose exact score reaches the bound, and only those are keyed, so the keys are the exact path's keys.
    /// Returns −1, for the exact path to answer, when the estimates cannot be used (no kernel for this vector length, a
    /// score that is not finite) or fewer than k items reach the bound.
    /// </summary>
    private int EstimatedBest(float[] vectors, ReadOnlySpan<float> query, ReadOnlySpan<int> exclude, int self, int k,
        float[] scores, ulong[] keys, Span<int> bestIndices, Span<float> bestScores)
    {
        var slack = EstimateSlack(vectors, query);
        if (!float.IsFinite(slack) || !EstimateAll(vectors, query, scores))
        {
            return -1;
        }
        Exclude(scores, exclude, self);
        var bound = SampledBound(scores, k);
        if (bound == float.NegativeInfinity)
        {
            return -1;
        }
        // Only a few hundred of the items reach the threshold: eight estimates are compared at once, and only the lanes
        // not below it (NaN included, as it compares false) are examined one by one, in index order as before.
        var threshold = bound - slack;
        var n = 0;
        var i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var lanes = Vector256<float>.Count;
            var below = Vector256.Create(threshold);
            ref var estimates = ref MemoryMarshal.GetArrayDataReference(scores);
            for (; i + lanes <= Count; i += lanes)
            {
                var examine = ~Vector256.LessThan(Vector256.LoadUnsafe(ref estimates, (nuint)i), below).ExtractMostSignificantBits() & ((1u << lanes) - 1);
                for (; examine != 0; examine &= examine - 1)
                {
                    if (!Examine(i + BitOperations.TrailingZeroCount(examine), vectors, query, scores, keys, ref n, bound, threshold))
                    {
                        return -1;
                    }
                }
            }
        }
        for (; i < Count; i++)
        {
            if (!Examine(i, vectors, query, scores, keys, ref n, bound, threshold))
            {
                return -1;
            }
        }
        if (n < k)
        {
            return -1;
        }
        return WriteBest(keys, n, scores, bestIndices, bestScores);
    }

    /// <summary>
    /// One item of <see cref="EstimatedBest"/>: an item that ranks and whose estimate reaches <paramref name="threshold"/>
    /// gets its exact score, and a key when that reaches <paramref name="bound"/>. False when the estimate is not finite
    /// (the exact path decides what a NaN or an overflow means).
    /// </summary>
    private bool Examine(int i, float[] vectors, ReadOnlySpan<float> query, float[] scores, ulong[] keys, ref int n, float bound, float threshold)
    {
        var estimate = scores[i];
        if (!Ranks(i, estimate))
        {
            return true;
        }
        if (!float.IsFinite(estimate))
        {
            return false;
        }
        if (estimate >= threshold)
        {
            var exact = TensorPrimitives.Dot(vectors.AsSpan(i * Factors, Factors), query);
            scores[i] = exact;
            if (exact >= bound)
            {
                BestFirst.TryKey(i, exact, out keys[n++]);
            }
        }
        return true;
    }

    /// <summary>
    /// How far an estimate and an exact score of the same item can lie apart: each is a sum of <see cref="Factors"/>
    /// rounded products in some order, off from the true dot product by at most γ·Σ|vᵢqᵢ| ≤ γ·|v|·|q|, γ ≈ k·2⁻²⁴;
    /// twice that for the two of them, and twice again as a margin. NaN (the exact path answers) when |v|·|q| is so small
    /// that products may fall below the normal floats, whose rounding is absolute rather than relative.
    /// </summary>
    internal float EstimateSlack(float[] vectors, ReadOnlySpan<float> query)
    {
        var largest = ReferenceEquals(vectors, _unitVectors) ? 1.0 : _largestNorm;
        var scale = largest * TensorPrimitives.Norm(query);
        var gamma = (Factors + 1) * Math.ScaleB(1.0, -24);
        return scale >= 1e-20 ? (float)(4 * gamma * scale) : float.NaN;
    }

    /// <summary>
    /// Every row's dot product with <paramref name="query"/>, four rows per pass with the query's lanes reused: at S
    /// (16,000 items × 64 factors) about 4× faster than a <see cref="TensorPrimitives.Dot"/> call per row, whose fixed
    /// cost per call is most of a 64-value product (docs/PERFORMANCE.md). The sum runs in another order, so a score may
    /// differ from <see cref="ScoreAll"/>'s in its last bits; <see cref="EstimatedBest"/> makes the answer exact again.
    /// False when the vectors' length has no such kernel here.
    /// </summary>
    internal bool EstimateAll(float[] vectors, ReadOnlySpan<float> query, Span<float> scores)
    {
        var lanes = Vector256<float>.Count;
        if (!Vector256.IsHardwareAccelerated || Factors % lanes != 0 || query.Length != Factors)
        {
            return false;
        }
        ref var q = ref MemoryMarshal.GetReference(query);
        ref var v = ref MemoryMarshal.GetArrayDataReference(vectors);
        var (k, i) = (Factors, 0);
        for (; i + 4 <= Count; i += 4)
        {
            ref var row = ref Unsafe.Add(ref v, i * k);
            var (a0, a1, a2, a3) = (Vector256<float>.Zero, Vector256<float>.Zero, Vector256<float>.Zero, Vector256<float>.Zero);
            for (var f = 0; f < k; f += lanes)
            {
                var qf = Vector256.LoadUnsafe(ref q, (nuint)f);
                a0 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref row, (nuint)f), qf, a0);
                a1 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref row, (nuint)(k + f)), qf, a1);
                a2 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref row, (nuint)(2 * k + f)), qf, a2);
                a3 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref row, (nuint)(3 * k + f)), qf, a3);
            }
            scores[i] = Vector256.Sum(a0);
            scores[i + 1] = Vector256.Sum(a1);
            scores[i + 2] = Vector256.Sum(a2);
            scores[i + 3] = Vector256.Sum(a3);
        }
        for (; i < Count; i++)
        {
            ref var row = ref Unsafe.Add(ref v, i * k);
            var a = Vector256<float>.Zero;
            for (var f = 0; f < k; f += lanes)
            {
                a = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref row, (nuint)f), Vector256.LoadUnsafe(ref q, (nuint)f), a);
            }
            scores[i] = Vector256.Sum(a);
        }
        return true;
    }

    // Below this many items per wanted one, keying every item costs about what the sample would save.
    private const int SampledBoundMinimumRatio = 8;
    private const int BoundSampleSize = 1024;

    /// <summary>Whether item <paramref name="i"/> takes part in a top K: a candidate, not excluded (−∞).</summary>
    private bool Ranks(int i, float score) => _candidate[i] && score != float.NegativeInfinity;

    /// <summary>
    /// The keys of the ranked items (<see cref="Ranks"/>) scoring at least <paramref name="bound"/>; how many, or −1
    /// when one's score is NaN.
    /// </summary>
    private int Keys(float[] scores, float bound, ulong[] keys)
    {
        var n = 0;
        for (var i = 0; i < Count; i++)
        {
            var score = scores[i];
            if (Ranks(i, score))
            {
                if (float.IsNaN(score))
                {
                    return -1;
                }
                if (score >= bound)
                {
                    BestFirst.TryKey(i, score, out keys[n++]);
                }
            }
        }
        return n;
    }

    /// <summary>
    /// A score that about twice <paramref name="k"/> items reach, from the scores of every stride-th item (about
    /// <see cref="BoundSampleSize"/> of them, spread over all items): the sample's (2k × positions read / items)-th best.
    /// The k-th best item lies above it unless the sample holds twice its expected share of the top k (for 450 of 16,000
    /// items, 1,000 positions read: 57 where 28 are expected); the caller checks and keys every item then. Keying and
    /// selecting among ~2k items instead of all of them was about a tenth of the API's CPU per cache miss (perf,
    /// docs/PERFORMANCE.md).
    /// </summary>
    private float SampledBound(float[] scores, int k)
    {
        var stride = (Count + BoundSampleSize - 1) / BoundSampleSize;
        var sample = ArrayPool<ulong>.Shared.Rent(BoundSampleSize);
        try
        {
            var (n, positions) = (0, 0);
            for (var i = 0; i < Count; i += stride, positions++)
            {
                if (Ranks(i, scores[i]) && BestFirst.TryKey(i, scores[i], out var key))
                {
                    sample[n++] = key;
                }
            }
            var rank = (int)Math.Ceiling(2.0 * k * positions / Count);
            if (rank == 0 || rank >= n)
            {
                return float.NegativeInfinity;
            }
            BestFirst.SortBest(sample.AsSpan(0, n), [], rank);
            return scores[BestFirst.IdOf(sample[rank - 1])];
        }
        finally
        {
            ArrayPool<ulong>.Shared.Return(sample);
        }
    }

    private int BestByHeap(float[] scores, Span<int> bestIndices, Span<float> bestScores)
    {
        var top = new TopK(bestIndices.Length);
        for (var i = 0; i < Count; i++)
        {
            if (Ranks(i, scores[i]))
            {
                top.Add(i, scores[i]);
            }
        }
        var (indices, best) = top.ToSorted();
        indices.CopyTo(bestIndices);
        best.CopyTo(bestScores);
        return indices.Length;
    }
}
