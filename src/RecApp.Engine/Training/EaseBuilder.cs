using System.Numerics;
using System.Runtime.InteropServices;
using RecApp.Engine.Domain;
using RecApp.Engine.Embeddings;
using RecApp.Engine.Model;
using RecApp.Engine.Scoring;

namespace RecApp.Engine.Training;

/// <summary>
/// EASE (Steck 2019): the exact item-item linear model <c>B = I − P·diag(1/diag(P))</c> with
/// <c>P = (XᵀX + λI)⁻¹</c> over binary user histories. It needs one dense inverse: of the items × items Gram matrix
/// (primal), or, when there are fewer users than items, of the users × users matrix <c>XXᵀ + λI</c> through the Woodbury
/// identity <c>P = (I − Xᵀ(XXᵀ + λI)⁻¹X) / λ</c> (dual), so a catalog of 10k–20k items with a few thousand users costs
/// seconds, not minutes. Either way the inverted dimension is at most <see cref="RecApp.Engine.NeighborOptions.EaseMaxItems"/>.
/// Each row of B is kept sparse (its <see cref="RecApp.Engine.NeighborOptions.EaseNeighbors"/> largest positive and most negative
/// weights) and stored as the item's collaborative neighbors, so scoring is unchanged.
/// </summary>
internal static class EaseBuilder
{
    /// <summary>Which inverse to compute; <see cref="Auto"/> takes the smaller dimension.</summary>
    internal enum Solver
    {
        Auto,
        Primal,
        Dual,
    }

    /// <summary>The dual's row pass costs items × stored cells; beyond this it is not attempted.</summary>
    private const double MaxDualWork = 6e9;

    public static Dictionary<long, ScoredIds>? TryBuild(InteractionMatrix matrix, RecommendationOptions options, int keep) =>
        TryBuild(matrix, options.Neighbors.EaseLambda, options.Neighbors.EaseMaxItems, keep);

    public static Dictionary<long, ScoredIds>? TryBuild(InteractionMatrix matrix, double lambda, int maxDimension, int keep, Solver solver = Solver.Auto)
    {
        // Compact index over items that have at least one user.
        var compact = new int[matrix.ItemCount];
        var items = new List<int>();
        for (var i = 0; i < matrix.ItemCount; i++)
        {
            compact[i] = matrix.ItemUserCount[i] > 0 ? items.Count : -1;
            if (compact[i] >= 0)
            {
                items.Add(i);
            }
        }
        var n = items.Count;
        var users = 0;
        for (var u = 0; u < matrix.UserCount; u++)
        {
            users += matrix.UserStart[u + 1] > matrix.UserStart[u] ? 1 : 0;
        }
        var cells = matrix.CellItem.Length;
        if (n == 0)
        {
            return null;
        }
        if (solver == Solver.Auto)
        {
            solver = users < n && (double)n * cells <= MaxDualWork ? Solver.Dual : Solver.Primal;
        }
        if ((solver == Solver.Primal ? n : users) > maxDimension)
        {
            return null;
        }
        var results = solver == Solver.Primal
            ? Primal(matrix, compact, items, lambda, keep)
            : Dual(matrix, compact, items, lambda, keep);

        var neighbors = new Dictionary<long, ScoredIds>(n);
        for (var i = 0; i < n; i++)
        {
            if (results[i] is { Ids.Length: > 0 } list)
            {
                neighbors[matrix.ItemIds[items[i]]] = list;
            }
        }
        return neighbors;
    }

    private static ScoredIds?[] Primal(InteractionMatrix matrix, int[] compact, List<int> items, double lambda, int keep)
    {
        var n = items.Count;
        // Gram matrix XᵀX + λI (binary X), dense row-major.
        var g = new double[n * n];
        var row = new List<int>();
        for (var u = 0; u < matrix.UserCount; u++)
        {
            row.Clear();
            for (var c = matrix.UserStart[u]; c < matrix.UserStart[u + 1]; c++)
            {
                if (compact[matrix.CellItem[c]] >= 0)
                {
                    row.Add(compact[matrix.CellItem[c]]);
                }
            }
            foreach (var a in row)
            {
                var offset = a * n;
                foreach (var b in row)
                {
                    g[offset + b] += 1;
                }
            }
        }
        for (var i = 0; i < n; i++)
        {
            g[i * n + i] += lambda;
        }

        InvertInPlace(g, n);

        var results = new ScoredIds?[n];
        Parallel.For(0, n, () => new Row(keep), (i, _, top) =>
        {
            // B[i, j] = −P[i, j] / P[j, j], never the item itself.
            top.Clear();
            for (var j = 0; j < n; j++)
            {
                if (j == i || !matrix.Items[items[j]].Active)
                {
                    continue;
                }
                top.Add(j, -g[i * n + j] / g[j * n + j]);
            }
            results[i] = top.ToScoredIds(matrix, items);
            return top;
        }, _ => { });
        return results;
    }

    /// <summary>
    /// With <c>M = (XXᵀ + λI)⁻¹</c> and <c>s(i, j) = x_iᵀ M x_j</c> (x_i: item i's column of users):
    /// <c>λP[i, j] = δ(i, j) − s(i, j)</c>, so <c>B[i, j] = s(i, j) / (1 − s(j, j))</c> for j ≠ i.
    /// </summary>
    private static ScoredIds?[] Dual(InteractionMatrix matrix, int[] compact, List<int> items, double lambda, int keep)
    {
        var n = items.Count;
        // Compact users: only those with cells (a sampled holdout leaves the others empty).
        var userIndex = new int[matrix.UserCount];
        var owners = new List<int>();
        for (var u = 0; u < matrix.UserCount; u++)
        {
            userIndex[u] = matrix.UserStart[u + 1] > matrix.UserStart[u] ? owners.Count : -1;
            if (userIndex[u] >= 0)
            {
                owners.Add(u);
            }
        }
        var users = owners.Count;

        // Item → users (CSR over compact items and users).
        var start = new int[n + 1];
        for (var c = 0; c < matrix.CellItem.Length; c++)
        {
            if (compact[matrix.CellItem[c]] >= 0)
            {
                start[compact[matrix.CellItem[c]] + 1]++;
            }
        }
        for (var i = 0; i < n; i++)
        {
            start[i + 1] += start[i];
        }
        var fill = (int[])start.Clone();
        var userOf = new int[start[n]];
        for (var u = 0; u < users; u++)
        {
            var owner = owners[u];
            for (var c = matrix.UserStart[owner]; c < matrix.UserStart[owner + 1]; c++)
            {
                if (compact[matrix.CellItem[c]] >= 0)
                {
                    userOf[fill[compact[matrix.CellItem[c]]]++] = u;
                }
            }
        }

        // K = XXᵀ + λI: row u adds 1 for every user sharing an item with u (rows are independent: parallel).
        var k = new double[users * users];
        Parallel.For(0, users, u =>
        {
            var offset = u * users;
            var owner = owners[u];
            for (var c = matrix.UserStart[owner]; c < matrix.UserStart[owner + 1]; c++)
            {
                var i = compact[matrix.CellItem[c]];
                if (i < 0)
                {
                    continue;
                }
                for (var p = start[i]; p < start[i + 1]; p++)
                {
                    k[offset + userOf[p]] += 1;
                }
            }
            k[offset + u] += lambda;
        });
        InvertInPlace(k, users);

        // v_i = M x_i (M is symmetric: the sum of M's rows of i's users); then s(i, j) = Σ over j's users of v_i.
        var diagonal = new double[n];
        Parallel.For(0, n, i => diagonal[i] = 1 - Quadratic(k, users, userOf.AsSpan(start[i], start[i + 1] - start[i])));

        var results = new ScoredIds?[n];
        Parallel.For(0, n, () => (V: new double[users], Top: new Row(keep)), (i, _, s) =>
        {
            var (v, top) = s;
            Array.Clear(v);
            for (var p = start[i]; p < start[i + 1]; p++)
            {
                AddRow(v, k.AsSpan(userOf[p] * users, users));
            }
            top.Clear();
            for (var j = 0; j < n; j++)
            {
                if (j == i || !matrix.Items[items[j]].Active)
                {
                    continue;
                }
                var sum = 0.0;
                for (var p = start[j]; p < start[j + 1]; p++)
                {
                    sum += v[userOf[p]];
                }
                top.Add(j, sum / diagonal[j]);
            }
            results[i] = top.ToScoredIds(matrix, items);
            return s;
        }, _ => { });
        return results;
    }

    /// <summary><c>xᵀ M x</c> for the binary x with ones at <paramref name="ones"/>.</summary>
    private static double Quadratic(double[] m, int size, ReadOnlySpan<int> ones)
    {
        var sum = 0.0;
        foreach (var a in ones)
        {
            var row = m.AsSpan(a * size, size);
            foreach (var b in ones)
            {
                sum += row[b];
            }
        }
        return sum;
    }

    private static void AddRow(double[] target, ReadOnlySpan<double> row)
    {
        var t = MemoryMarshal.Cast<double, Vector<double>>(target.AsSpan());
        var r = MemoryMarshal.Cast<double, Vector<double>>(row);
        for (var x = 0; x < t.Length; x++)
        {
            t[x] += r[x];
        }
        for (var x = t.Length * Vector<double>.Count; x < target.Length; x++)
        {
            target[x] += row[x];
        }
    }

    /// <summary>
    /// The kept part of one row of B: its <c>keep</c> largest positive weights and its <c>keep</c> most negative ones
    /// (EASE's negative weights carry real signal: an item that predicts the user will not take another). Stored best
    /// first, the negative ones last, so a reader of the list as neighbors sees the positive ones first.
    /// </summary>
    private sealed class Row(int keep)
    {
        private readonly TopK _positive = new(keep);
        private readonly TopK _negative = new(keep);

        public void Clear()
        {
            _positive.Clear();
            _negative.Clear();
        }

        public void Add(int j, double weight)
        {
            if (weight > 0)
            {
                _positive.Add(j, (float)weight);
            }
            else if (weight < 0)
            {
                _negative.Add(j, (float)-weight);
            }
        }

        public ScoredIds ToScoredIds(InteractionMatrix matrix, List<int> items)
        {
            var (positive, positiveScores) = _positive.ToSorted();
            var (negative, negativeScores) = _negative.ToSorted();
            var ids = new long[positive.Length + negative.Length];
            var scores = new float[ids.Length];
            for (var k = 0; k < positive.Length; k++)
            {
                ids[k] = matrix.ItemIds[items[positive[k]]];
                scores[k] = positiveScores[k];
            }
            // Least negative first, so the whole list stays in descending order.
            for (var k = 0; k < negative.Length; k++)
            {
                var at = ids.Length - 1 - k;
                ids[at] = matrix.ItemIds[items[negative[k]]];
                scores[at] = -negativeScores[k];
            }
            return new ScoredIds(ids, scores);
        }
    }

    /// <summary>In-place Gauss–Jordan inverse of a symmetric positive definite matrix (no pivoting needed), SIMD rows.</summary>
    internal static void InvertInPlace(double[] a, int n)
    {
        for (var k = 0; k < n; k++)
        {
            var pivotRow = a.AsSpan(k * n, n);
            var inverse = 1 / pivotRow[k];
            pivotRow[k] = 1;
            Scale(pivotRow, inverse);
            Parallel.For(0, n, i =>
            {
                if (i == k)
                {
                    return;
                }
                var target = a.AsSpan(i * n, n);
                var factor = target[k];
                if (factor == 0)
                {
                    return;
                }
                target[k] = 0;
                SubtractScaled(target, a.AsSpan(k * n, n), factor);
            });
        }
    }

    private static void Scale(Span<double> values, double factor)
    {
        var vectors = MemoryMarshal.Cast<double, Vector<double>>(values);
        for (var v = 0; v < vectors.Length; v++)
        {
            vectors[v] *= factor;
        }
        for (var i = vectors.Length * Vector<double>.Count; i < values.Length; i++)
        {
            values[i] *= factor;
        }
    }

    // target -= factor × source
    private static void SubtractScaled(Span<double> target, ReadOnlySpan<double> source, double factor)
    {
        var t = MemoryMarshal.Cast<double, Vector<double>>(target);
        var s = MemoryMarshal.Cast<double, Vector<double>>(source);
        var f = new Vector<double>(factor);
        for (var v = 0; v < t.Length; v++)
        {
            t[v] -= f * s[v];
        }
        for (var i = t.Length * Vector<double>.Count; i < target.Length; i++)
        {
            target[i] -= factor * source[i];
        }
    }
}
