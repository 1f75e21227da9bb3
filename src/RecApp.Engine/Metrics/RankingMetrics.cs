namespace RecApp.Engine.Metrics;

/// <summary>The ranking measures every evaluation here reports: the tuner's validation, the offline evaluator and the tests.</summary>
public static class RankingMetrics
{
    /// <summary>
    /// nDCG@k with binary relevance: the discounted gain of the relevant items in the first <paramref name="k"/> of
    /// <paramref name="ranked"/> (1 / log2(rank + 1), rank from 1) over the gain of a perfect list; 0 when nothing is relevant.
    /// </summary>
    public static double Ndcg<T>(IReadOnlyList<T> ranked, HashSet<T> relevant, int k)
    {
        double dcg = 0;
        for (var r = 0; r < Math.Min(k, ranked.Count); r++)
        {
            dcg += relevant.Contains(ranked[r]) ? 1 / Math.Log2(r + 2) : 0;
        }
        var ideal = IdealDcg(Math.Min(k, relevant.Count));
        return ideal > 0 ? dcg / ideal : 0;
    }

    /// <summary>The gain of a list whose first <paramref name="relevant"/> items are all relevant.</summary>
    private static double IdealDcg(int relevant)
    {
        double ideal = 0;
        for (var r = 0; r < relevant; r++)
        {
            ideal += 1 / Math.Log2(r + 2);
        }
        return ideal;
    }
}
