namespace RecApp.Engine.Scoring;

/// <summary>
/// The working collections of one cache miss (history weights, each source's candidates, the fused scores, the ordered
/// list), kept from one request to the next so that a miss allocates little: a miss used to allocate ~300 KB, mostly
/// dictionaries grown entry by entry and dropped, and under concurrent misses that garbage is what the GC's CPU and
/// retained heap follow.
/// A pooled scratch serves one request at a time (<see cref="Rent"/>, then <see cref="Return"/> once nothing it handed
/// out is read any more); a request that throws does not return it, so the pool only ever holds clean ones.
/// <see cref="None"/> hands out new dictionaries and keeps nothing: for callers that keep what they are given.
/// </summary>
internal sealed class ScoringScratch
{
    // A few per core: more requests than that are rarely running at once, and the rest simply allocate.
    private static readonly ScoringScratch?[] s_pool = new ScoringScratch?[Environment.ProcessorCount * 4];

    private readonly bool _pooled;
    private readonly List<Dictionary<long, float>> _scores = [];
    private readonly List<Dictionary<string, float>> _names = [];
    private readonly List<List<(long Id, float Score)>> _lists = [];
    private bool[] _marks = [];
    private readonly List<int> _marked = [];
    private int _scoresUsed;
    private int _namesUsed;
    private int _listsUsed;

    private ScoringScratch(bool pooled) => _pooled = pooled;

    /// <summary>Nothing reused: every dictionary is new and belongs to the caller.</summary>
    public static ScoringScratch None { get; } = new(pooled: false);

    /// <summary>A clean scratch for one request, from the pool when one is free.</summary>
    public static ScoringScratch Rent()
    {
        for (var i = 0; i < s_pool.Length; i++)
        {
            if (Volatile.Read(ref s_pool[i]) is { } scratch && Interlocked.CompareExchange(ref s_pool[i], null, scratch) == scratch)
            {
                return scratch;
            }
        }
        return new ScoringScratch(pooled: true);
    }

    /// <summary>Clears <paramref name="scratch"/> and gives it back; nothing it handed out may be used after this.</summary>
    public static void Return(ScoringScratch scratch)
    {
        if (!scratch._pooled)
        {
            return;
        }
        scratch.Clear();
        for (var i = 0; i < s_pool.Length; i++)
        {
            if (Interlocked.CompareExchange(ref s_pool[i], scratch, null) is null)
            {
                return;
            }
        }
    }

    /// <summary>An empty id → score dictionary for this request (pooled: with the capacity earlier requests grew).</summary>
    public Dictionary<long, float> Scores()
    {
        if (!_pooled)
        {
            return [];
        }
        if (_scoresUsed == _scores.Count)
        {
            _scores.Add([]);
        }
        return _scores[_scoresUsed++];
    }

    /// <summary>An empty name → weight dictionary (ordinal) for this request.</summary>
    public Dictionary<string, float> Names()
    {
        if (!_pooled)
        {
            return new(StringComparer.Ordinal);
        }
        if (_namesUsed == _names.Count)
        {
            _names.Add(new(StringComparer.Ordinal));
        }
        return _names[_namesUsed++];
    }

    /// <summary>Whether this scratch keeps what it hands out for the next request (<see cref="None"/> does not).</summary>
    public bool IsPooled => _pooled;

    /// <summary>
    /// Marks for this request, by dense id below <paramref name="limit"/> (<see cref="Model.Catalog.DenseIdLimit"/>), with
    /// <paramref name="first"/> and <paramref name="second"/> marked (ids outside the range are in no catalog item and
    /// stay unmarked); read them with <see cref="IsMarked"/>. Pooled scratches only, once per request.
    /// </summary>
    public bool[] Mark(int limit, IEnumerable<long> first, IEnumerable<long> second)
    {
        if (!_pooled || _marked.Count > 0)
        {
            throw new InvalidOperationException("Item marks are kept by pooled scratches, once per request.");
        }
        if (_marks.Length < limit)
        {
            _marks = new bool[limit];
        }
        MarkAll(first, limit);
        MarkAll(second, limit);
        return _marks;
    }

    /// <summary>Whether <paramref name="id"/> is marked in <paramref name="marks"/> (from <see cref="Mark"/>).</summary>
    public static bool IsMarked(bool[] marks, long id) => (ulong)id < (ulong)marks.Length && marks[id];

    private void MarkAll(IEnumerable<long> ids, int limit)
    {
        foreach (var id in ids)
        {
            if ((ulong)id < (ulong)limit && !_marks[id])
            {
                _marks[id] = true;
                _marked.Add((int)id);
            }
        }
    }

    /// <summary>An empty list of (id, score) pairs for this request.</summary>
    public List<(long Id, float Score)> Pairs()
    {
        if (!_pooled)
        {
            return [];
        }
        if (_listsUsed == _lists.Count)
        {
            _lists.Add([]);
        }
        return _lists[_listsUsed++];
    }

    private void Clear()
    {
        for (var i = 0; i < _scoresUsed; i++)
        {
            _scores[i].Clear();
        }
        for (var i = 0; i < _namesUsed; i++)
        {
            _names[i].Clear(); // also lets go of the catalog's names
        }
        for (var i = 0; i < _listsUsed; i++)
        {
            _lists[i].Clear();
        }
        foreach (var id in _marked)
        {
            _marks[id] = false;
        }
        _marked.Clear();
        (_scoresUsed, _namesUsed, _listsUsed) = (0, 0, 0);
    }
}
