using System.Numerics;
using System.Runtime.InteropServices;

namespace RecApp.Recommendations.Model;

/// <summary>
/// EASE (Steck 2019): the exact item-item linear model <c>B = I − P·diag(1/diag(P))</c> with
/// <c>P = (XᵀX + λI)⁻¹</c> over binary user histories. It needs a dense items × items inverse (O(n³)), so it is only
/// built for catalogs of at most <see cref="RecommendationOptions.EaseMaxItems"/> items with interactions. Each row of B
/// is kept sparse (its top positive weights) and stored as the item's collaborative neighbors, so scoring is unchanged.
/// </summary>
internal static class EaseBuilder
{
    public static Dictionary<long, ScoredIds>? TryBuild(InteractionMatrix matrix, RecommendationOptions options, int keep)
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
        if (n == 0 || n > options.EaseMaxItems)
        {
            return null;
        }

        // Gram matrix XᵀX + λI (binary X), dense row-major.
        var g = new double[n * n];
        var row = new List<int>();
        for (var u = 0; u < matrix.UserCount; u++)
        {
            row.Clear();
            for (var c = matrix.UserStart[u]; c < matrix.UserStart[u + 1]; c++)
            {
                row.Add(compact[matrix.CellItem[c]]);
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
            g[i * n + i] += options.EaseLambda;
        }

        InvertInPlace(g, n);

        var results = new ScoredIds?[n];
        Parallel.For(0, n, () => new TopK(keep), (i, _, top) =>
        {
            // B[i, j] = −P[i, j] / P[j, j]; keep the largest positive weights, never the item itself.
            top.Clear();
            for (var j = 0; j < n; j++)
            {
                if (j == i || !matrix.Items[items[j]].Active)
                {
                    continue;
                }
                var weight = -g[i * n + j] / g[j * n + j];
                if (weight > 0)
                {
                    top.Add(j, (float)weight);
                }
            }
            var (indices, scores) = top.ToSorted();
            results[i] = new ScoredIds(indices.Select(j => matrix.ItemIds[items[j]]).ToArray(), scores);
            return top;
        }, _ => { });

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
