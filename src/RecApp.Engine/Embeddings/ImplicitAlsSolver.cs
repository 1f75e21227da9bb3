using System.Collections.Concurrent;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace RecApp.Engine.Embeddings;

/// <summary>
/// The per-row least-squares solve of implicit ALS (Hu, Koren, Volinsky 2008). For a row with cells (j, r_j) against
/// the fixed other side Y (row-major, k columns), with c_j = α·r_j:
/// <c>(YᵀY + λ_r·I + Σ_j c_j·y_j·y_jᵀ)·x = Σ_j (1 + c_j)·y_j</c>.
/// The Gramian YᵀY is computed once per half-step, so a row costs O(k² + nnz·k) per conjugate-gradient step, or
/// O(k³ + nnz·k²) exactly. Each row reads only the fixed side and its own previous value, so the result never
/// depends on how rows are scheduled across threads.
/// </summary>
internal static class ImplicitAlsSolver
{
    private const int GramChunkRows = 256;
    private const int GramGroups = 16;

    /// <summary>
    /// YᵀY (k × k, row-major) of <paramref name="rows"/> × k factors. The rows are cut into a fixed number of groups
    /// (never by thread count) summed in group order, so the result is the same on any number of threads; within a
    /// group, chunks of 256 rows are transposed into a cache-resident buffer and each entry is one SIMD dot.
    /// </summary>
    public static float[] Gramian(float[] factors, int rows, int k, int parallelism)
    {
        var groups = Math.Max(1, Math.Min(GramGroups, (rows + GramChunkRows - 1) / GramChunkRows));
        var partials = new float[groups][];
        Parallel.For(0, groups, new ParallelOptions { MaxDegreeOfParallelism = parallelism }, () => new float[k * GramChunkRows], (g, _, columns) =>
        {
            var partial = new float[k * k];
            var end = (int)((long)rows * (g + 1) / groups);
            for (var from = (int)((long)rows * g / groups); from < end; from += GramChunkRows)
            {
                var length = Math.Min(GramChunkRows, end - from);
                for (var r = 0; r < length; r++)
                {
                    var offset = (from + r) * k;
                    for (var a = 0; a < k; a++)
                    {
                        columns[a * GramChunkRows + r] = factors[offset + a];
                    }
                }
                for (var a = 0; a < k; a++)
                {
                    var columnA = columns.AsSpan(a * GramChunkRows, length);
                    for (var b = a; b < k; b++)
                    {
                        partial[a * k + b] += TensorPrimitives.Dot(columnA, columns.AsSpan(b * GramChunkRows, length));
                    }
                }
            }
            partials[g] = partial;
            return columns;
        }, _ => { });
        var gram = partials[0];
        for (var g = 1; g < groups; g++)
        {
            TensorPrimitives.Add(gram, partials[g], gram);
        }
        for (var a = 0; a < k; a++)
        {
            for (var b = a + 1; b < k; b++)
            {
                gram[b * k + a] = gram[a * k + b];
            }
        }
        return gram;
    }

    /// <summary>Solves every row of <paramref name="target"/> against the fixed <paramref name="other"/> side.</summary>
    public static void SolveRows(
        float[] target, int[] start, int[] cellOther, float[] cellValue, float[] other, float[] gram, ImplicitAlsSettings settings)
    {
        var k = settings.Factors;
        var rowCount = start.Length - 1;
        if (rowCount == 0)
        {
            return; // Partitioner.Create rejects an empty range
        }
        var options = new ParallelOptions { MaxDegreeOfParallelism = settings.MaxDegreeOfParallelism };
        // Ranges of rows per task (not one task per row): a row is only microseconds of work.
        Parallel.ForEach(Partitioner.Create(0, rowCount, Math.Max(64, rowCount / 256 + 1)), options, () => new Scratch(k), (range, _, scratch) =>
        {
            for (var row = range.Item1; row < range.Item2; row++)
            {
                var x = target.AsSpan(row * k, k);
                var from = start[row];
                var count = start[row + 1] - from;
                if (count == 0)
                {
                    x.Clear(); // no evidence: the penalized optimum is the zero vector
                    continue;
                }
                var lambda = RowRegularization(settings, count);
                var cells = cellOther.AsSpan(from, count);
                var values = cellValue.AsSpan(from, count);
                if (settings.ConjugateGradientSteps == 0)
                {
                    SolveExact(x, gram, other, cells, values, settings.Alpha, lambda, scratch);
                }
                else
                {
                    SolveConjugateGradient(x, gram, other, cells, values, settings.Alpha, lambda, settings.ConjugateGradientSteps, scratch);
                }
            }
            return scratch;
        }, _ => { });
    }

    public static float RowRegularization(ImplicitAlsSettings settings, int cellCount) =>
        settings.RegularizationExponent == 0
            ? settings.Regularization
            : settings.Regularization * MathF.Pow(1 + cellCount, settings.RegularizationExponent);

    /// <summary>
    /// A few conjugate-gradient steps on the row's system, warm-started from <paramref name="x"/> (its previous value):
    /// the matrix is never formed, each product costs one k × k Gramian product plus two dots per cell.
    /// </summary>
    public static void SolveConjugateGradient(
        Span<float> x, ReadOnlySpan<float> gram, ReadOnlySpan<float> other, ReadOnlySpan<int> cells, ReadOnlySpan<float> values,
        float alpha, float lambda, int steps, Scratch scratch)
    {
        var k = x.Length;
        var r = scratch.Residual.AsSpan(0, k);
        var p = scratch.Direction.AsSpan(0, k);
        var ap = scratch.Product.AsSpan(0, k);

        // r = b − A·x = Σ_j (1 + c_j − c_j·y_j·x)·y_j − (YᵀY + λI)·x
        MultiplyGram(gram, x, r);
        TensorPrimitives.MultiplyAdd(x, lambda, r, r);
        TensorPrimitives.Negate(r, r);
        AccumulateCells(other, cells, values, alpha, x, r, residual: true, scratch);
        r.CopyTo(p);
        var residual = TensorPrimitives.Dot(r, r);
        for (var step = 0; step < steps && residual > 1e-20f; step++)
        {
            // ap = A·p
            MultiplyGram(gram, p, ap);
            TensorPrimitives.MultiplyAdd(p, lambda, ap, ap);
            AccumulateCells(other, cells, values, alpha, p, ap, residual: false, scratch);
            var curvature = TensorPrimitives.Dot(p, ap);
            if (!(curvature > 0))
            {
                break;
            }
            var stepSize = residual / curvature;
            TensorPrimitives.MultiplyAdd(p, stepSize, x, x);
            TensorPrimitives.MultiplyAdd(ap, -stepSize, r, r);
            var next = TensorPrimitives.Dot(r, r);
            TensorPrimitives.MultiplyAdd(p, next / residual, r, p); // p = r + β·p
            residual = next;
        }
    }

    /// <summary>
    /// The per-cell part of a CG product: with d_j = y_j·v, adds Σ_j w_j·y_j to <paramref name="destination"/>, where
    /// w_j = c_j·d_j (the product A·v) or, for the initial residual, 1 + c_j − c_j·d_j (b − A·v). When k is a multiple
    /// of the vector width the dots and the sum run in registers (two passes over the cells instead of two library calls
    /// per cell, which cost more than the arithmetic at k ≤ 128).
    /// </summary>
    private static void AccumulateCells(
        ReadOnlySpan<float> other, ReadOnlySpan<int> cells, ReadOnlySpan<float> values, float alpha, ReadOnlySpan<float> v,
        Span<float> destination, bool residual, Scratch scratch)
    {
        var k = v.Length;
        var width = Vector<float>.Count;
        if (!Vector.IsHardwareAccelerated || k % width != 0)
        {
            for (var j = 0; j < cells.Length; j++)
            {
                var y = other.Slice(cells[j] * k, k);
                var c = alpha * values[j];
                var d = TensorPrimitives.Dot(y, v);
                TensorPrimitives.MultiplyAdd(y, residual ? 1 + c - c * d : c * d, destination, destination);
            }
            return;
        }
        var weights = scratch.CellWeights(cells.Length);
        var vv = MemoryMarshal.Cast<float, Vector<float>>(v);
        for (var j = 0; j < cells.Length; j++)
        {
            var y = MemoryMarshal.Cast<float, Vector<float>>(other.Slice(cells[j] * k, k));
            Vector<float> s0 = default, s1 = default;
            var b = 0;
            for (; b + 1 < y.Length; b += 2)
            {
                s0 = Vector.FusedMultiplyAdd(y[b], vv[b], s0);
                s1 = Vector.FusedMultiplyAdd(y[b + 1], vv[b + 1], s1);
            }
            if (b < y.Length)
            {
                s0 = Vector.FusedMultiplyAdd(y[b], vv[b], s0);
            }
            var c = alpha * values[j];
            var d = Vector.Sum(s0 + s1);
            weights[j] = residual ? 1 + c - c * d : c * d;
        }
        var target = MemoryMarshal.Cast<float, Vector<float>>(destination);
        var blocks = target.Length;
        var block = 0;
        for (; block + 4 <= blocks; block += 4)
        {
            Vector<float> a0 = target[block], a1 = target[block + 1], a2 = target[block + 2], a3 = target[block + 3];
            for (var j = 0; j < cells.Length; j++)
            {
                var y = MemoryMarshal.Cast<float, Vector<float>>(other.Slice(cells[j] * k + block * width, 4 * width));
                var w = new Vector<float>(weights[j]);
                a0 = Vector.FusedMultiplyAdd(y[0], w, a0);
                a1 = Vector.FusedMultiplyAdd(y[1], w, a1);
                a2 = Vector.FusedMultiplyAdd(y[2], w, a2);
                a3 = Vector.FusedMultiplyAdd(y[3], w, a3);
            }
            target[block] = a0;
            target[block + 1] = a1;
            target[block + 2] = a2;
            target[block + 3] = a3;
        }
        for (; block < blocks; block++)
        {
            var a = target[block];
            for (var j = 0; j < cells.Length; j++)
            {
                a = Vector.FusedMultiplyAdd(new Vector<float>(other.Slice(cells[j] * k + block * width, width)), new Vector<float>(weights[j]), a);
            }
            target[block] = a;
        }
    }

    /// <summary>
    /// The exact solution by Cholesky in double precision: O(k³/3 + nnz·k²/2), the row operations as SIMD dots and
    /// multiply-adds over the lower triangle.
    /// </summary>
    public static void SolveExact(
        Span<float> x, ReadOnlySpan<float> gram, ReadOnlySpan<float> other, ReadOnlySpan<int> cells, ReadOnlySpan<float> values,
        float alpha, float lambda, Scratch scratch)
    {
        var k = x.Length;
        var a = scratch.Matrix.AsSpan(0, k * k);
        var b = scratch.Vector.AsSpan(0, k);
        var y = scratch.Row.AsSpan(0, k);
        for (var i = 0; i < k * k; i++)
        {
            a[i] = gram[i];
        }
        b.Clear();
        for (var i = 0; i < k; i++)
        {
            a[i * k + i] += lambda;
        }
        for (var j = 0; j < cells.Length; j++)
        {
            var source = other.Slice(cells[j] * k, k);
            for (var i = 0; i < k; i++)
            {
                y[i] = source[i];
            }
            var c = (double)alpha * values[j];
            TensorPrimitives.MultiplyAdd(y, 1 + c, b, b);
            if (c == 0)
            {
                continue;
            }
            for (var row = 0; row < k; row++)
            {
                // Lower triangle only: A[row, 0..row] += c·y[row]·y[0..row]
                var target = a.Slice(row * k, row + 1);
                TensorPrimitives.MultiplyAdd(y[..(row + 1)], c * y[row], target, target);
            }
        }
        // Cholesky A = L·Lᵀ in place (L in the lower triangle, row-major), then L·z = b and Lᵀ·x = z.
        for (var j = 0; j < k; j++)
        {
            var rowJ = a.Slice(j * k, j);
            var diagonal = Math.Sqrt(Math.Max(a[j * k + j] - TensorPrimitives.Dot(rowJ, rowJ), 1e-12));
            a[j * k + j] = diagonal;
            for (var i = j + 1; i < k; i++)
            {
                a[i * k + j] = (a[i * k + j] - TensorPrimitives.Dot(a.Slice(i * k, j), rowJ)) / diagonal;
            }
        }
        for (var i = 0; i < k; i++)
        {
            b[i] = (b[i] - TensorPrimitives.Dot(a.Slice(i * k, i), b[..i])) / a[i * k + i];
        }
        for (var i = k - 1; i >= 0; i--)
        {
            var sum = b[i];
            for (var p = i + 1; p < k; p++)
            {
                sum -= a[p * k + i] * b[p];
            }
            b[i] = sum / a[i * k + i];
        }
        for (var i = 0; i < k; i++)
        {
            x[i] = (float)b[i];
        }
    }

    /// <summary>
    /// destination = G·v for the symmetric k × k Gramian, as Σ_a v[a]·G[a, ·] with four vector accumulators held in
    /// registers: this product is the O(k²) part of every conjugate-gradient step, and k separate dot products (each
    /// with its horizontal sum) cost several times more.
    /// </summary>
    internal static void MultiplyGram(ReadOnlySpan<float> gram, ReadOnlySpan<float> v, Span<float> destination)
    {
        var k = v.Length;
        var width = Vector<float>.Count;
        if (!Vector.IsHardwareAccelerated || k % width != 0)
        {
            for (var a = 0; a < k; a++)
            {
                destination[a] = TensorPrimitives.Dot(gram.Slice(a * k, k), v);
            }
            return;
        }
        var column = 0;
        for (; column + 4 * width <= k; column += 4 * width)
        {
            Vector<float> s0 = default, s1 = default, s2 = default, s3 = default;
            for (var a = 0; a < k; a++)
            {
                var scale = new Vector<float>(v[a]);
                var row = gram.Slice(a * k + column, 4 * width);
                s0 = Vector.FusedMultiplyAdd(scale, new Vector<float>(row), s0);
                s1 = Vector.FusedMultiplyAdd(scale, new Vector<float>(row[width..]), s1);
                s2 = Vector.FusedMultiplyAdd(scale, new Vector<float>(row[(2 * width)..]), s2);
                s3 = Vector.FusedMultiplyAdd(scale, new Vector<float>(row[(3 * width)..]), s3);
            }
            s0.CopyTo(destination[column..]);
            s1.CopyTo(destination[(column + width)..]);
            s2.CopyTo(destination[(column + 2 * width)..]);
            s3.CopyTo(destination[(column + 3 * width)..]);
        }
        for (; column < k; column += width)
        {
            Vector<float> sum = default;
            for (var a = 0; a < k; a++)
            {
                sum = Vector.FusedMultiplyAdd(new Vector<float>(v[a]), new Vector<float>(gram.Slice(a * k + column, width)), sum);
            }
            sum.CopyTo(destination[column..]);
        }
    }

    /// <summary>Per-thread work buffers; their contents never carry from one row to the next.</summary>
    internal sealed class Scratch(int k)
    {
        public float[] Residual { get; } = new float[k];
        public float[] Direction { get; } = new float[k];
        public float[] Product { get; } = new float[k];
        private double[]? _matrix;
        private double[]? _vector;
        private double[]? _row;

        // Only the exact solver needs these (k² doubles: 128 KB at k = 128), so they are made on first use.
        public double[] Matrix => _matrix ??= new double[k * k];
        public double[] Vector => _vector ??= new double[k];
        public double[] Row => _row ??= new double[k];

        private float[] _cellWeights = new float[64];

        public Span<float> CellWeights(int count)
        {
            if (_cellWeights.Length < count)
            {
                _cellWeights = new float[Math.Max(count, _cellWeights.Length * 2)];
            }
            return _cellWeights.AsSpan(0, count);
        }
    }
}
