namespace RecApp.Engine;

/// <summary>
/// Keeps the best <c>k</c> (score, index) pairs seen, as a min-heap; ties broken by the smaller index so results are
/// deterministic. Reusable: <see cref="Clear"/> between uses, no allocation per item.
/// </summary>
internal sealed class TopK(int k)
{
    private readonly float[] _scores = new float[Math.Max(k, 1)];
    private readonly int[] _indices = new int[Math.Max(k, 1)];
    private int _count;

    public int Capacity { get; } = k;
    public int Count => _count;

    public void Clear() => _count = 0;

    public void Add(int index, float score)
    {
        if (Capacity <= 0)
        {
            return;
        }
        if (_count < Capacity)
        {
            var i = _count++;
            _scores[i] = score;
            _indices[i] = index;
            SiftUp(i);
        }
        else if (Better(score, index, _scores[0], _indices[0]))
        {
            _scores[0] = score;
            _indices[0] = index;
            SiftDown(0);
        }
    }

    /// <summary>The kept pairs, best first (score descending, index ascending).</summary>
    public (int[] Indices, float[] Scores) ToSorted()
    {
        var indices = _indices.AsSpan(0, _count).ToArray();
        var scores = _scores.AsSpan(0, _count).ToArray();
        var order = new int[_count];
        for (var i = 0; i < order.Length; i++)
        {
            order[i] = i;
        }
        Array.Sort(order, (a, b) => scores[a] != scores[b] ? scores[b].CompareTo(scores[a]) : indices[a].CompareTo(indices[b]));
        var sortedIndices = new int[_count];
        var sortedScores = new float[_count];
        for (var i = 0; i < order.Length; i++)
        {
            sortedIndices[i] = indices[order[i]];
            sortedScores[i] = scores[order[i]];
        }
        return (sortedIndices, sortedScores);
    }

    // "a is better than b": higher score, or equal score and smaller index.
    private static bool Better(float scoreA, int indexA, float scoreB, int indexB) =>
        scoreA > scoreB || (scoreA == scoreB && indexA < indexB);

    private void SiftUp(int i)
    {
        while (i > 0)
        {
            var parent = (i - 1) / 2;
            if (!Better(_scores[parent], _indices[parent], _scores[i], _indices[i]))
            {
                break;
            }
            Swap(i, parent);
            i = parent;
        }
    }

    private void SiftDown(int i)
    {
        while (true)
        {
            var left = 2 * i + 1;
            if (left >= _count)
            {
                return;
            }
            var worst = left;
            var right = left + 1;
            if (right < _count && Better(_scores[left], _indices[left], _scores[right], _indices[right]))
            {
                worst = right;
            }
            if (!Better(_scores[i], _indices[i], _scores[worst], _indices[worst]))
            {
                return;
            }
            Swap(i, worst);
            i = worst;
        }
    }

    private void Swap(int a, int b)
    {
        (_scores[a], _scores[b]) = (_scores[b], _scores[a]);
        (_indices[a], _indices[b]) = (_indices[b], _indices[a]);
    }
}

/// <summary>Scratch accumulator of one candidate: weighted dot product and co-occurrence count.</summary>
internal struct Cell
{
    public float Dot;
    public int Count;
}
