namespace RecApp.Engine.Model;

/// <summary>
/// Each user's precomputed user-neighbor candidates: the items the user's nearest users liked, weighted by similarity,
/// best first (users with too few items have none). A built model also holds the nearest users themselves, which the
/// store keeps for inspection; serving never reads them, so a model loaded from the store has none.
/// <para>
/// One flat layout with a row per user instead of objects per user (a record, two lists, four arrays): at 2M users
/// those objects' headers and references were about 0.2 GB of each API instance's heap, and six million more objects
/// for every full collection to walk.
/// </para>
/// </summary>
public sealed class UserNeighborModel
{
    private readonly Dictionary<long, int> _rows;
    private readonly int[] _start; // row r's items are [_start[r], _start[r + 1])
    private readonly long[] _itemIds;
    private readonly float[] _itemScores;
    private readonly ScoredIds[]? _neighbors; // per row; only in a built model

    private UserNeighborModel(Dictionary<long, int> rows, int[] start, long[] itemIds, float[] itemScores, ScoredIds[]? neighbors) =>
        (_rows, _start, _itemIds, _itemScores, _neighbors) = (rows, start, itemIds, itemScores, neighbors);

    public static UserNeighborModel Empty { get; } = new Builder(0, 0).Build();

    /// <summary>Users with a neighborhood.</summary>
    public int Count => _rows.Count;

    public IEnumerable<long> UserIds => _rows.Keys;

    /// <summary>Candidate items over all users.</summary>
    public long ItemCount => _itemIds.Length;

    /// <summary>The user's candidate items and their scores, best first; false when the user has no neighborhood.</summary>
    public bool TryGetItems(long userId, out ReadOnlySpan<long> ids, out ReadOnlySpan<float> scores)
    {
        if (!_rows.TryGetValue(userId, out var row))
        {
            ids = default;
            scores = default;
            return false;
        }
        var (from, length) = (_start[row], _start[row + 1] - _start[row]);
        ids = _itemIds.AsSpan(from, length);
        scores = _itemScores.AsSpan(from, length);
        return true;
    }

    /// <summary>A copy of the user's candidate items (empty when none).</summary>
    public ScoredIds Items(long userId) =>
        TryGetItems(userId, out var ids, out var scores) ? new ScoredIds(ids.ToArray(), scores.ToArray()) : ScoredIds.Empty;

    /// <summary>The user's nearest users and their similarities (empty when none, and in a model loaded from the store).</summary>
    public ScoredIds Neighbors(long userId) =>
        _neighbors is not null && _rows.TryGetValue(userId, out var row) ? _neighbors[row] : ScoredIds.Empty;

    /// <summary>Fills a model row by row, into arrays sized up front.</summary>
    /// <param name="userCount">Rows to come.</param>
    /// <param name="itemCount">Candidate items over all rows (the arrays grow if more come).</param>
    public sealed class Builder(int userCount, long itemCount)
    {
        private readonly Dictionary<long, int> _rows = new(userCount);
        private readonly List<int> _start = new(userCount + 1) { 0 };
        private long[] _itemIds = new long[itemCount];
        private float[] _itemScores = new float[itemCount];
        private List<ScoredIds>? _neighbors;
        private int _filled;
        private bool _built;

        /// <summary>Adds a user's row; <paramref name="neighbors"/> is given by a build and left out by a load.</summary>
        public void Add(long userId, ReadOnlySpan<long> itemIds, ReadOnlySpan<float> itemScores, ScoredIds? neighbors = null)
        {
            if (_built)
            {
                throw new InvalidOperationException("The model is built: a builder fills one model.");
            }
            if (itemIds.Length != itemScores.Length)
            {
                throw new ArgumentException("Every candidate item needs one score.", nameof(itemScores));
            }
            if (!_rows.TryAdd(userId, _rows.Count))
            {
                throw new ArgumentException($"User {userId} already has a row.", nameof(userId));
            }
            if (_filled + itemIds.Length > _itemIds.Length)
            {
                var size = Math.Max(_filled + itemIds.Length, _itemIds.Length * 2);
                Array.Resize(ref _itemIds, size);
                Array.Resize(ref _itemScores, size);
            }
            itemIds.CopyTo(_itemIds.AsSpan(_filled));
            itemScores.CopyTo(_itemScores.AsSpan(_filled));
            _filled += itemIds.Length;
            _start.Add(_filled);
            if (neighbors is not null && _neighbors is null)
            {
                _neighbors = new List<ScoredIds>(userCount);
                _neighbors.AddRange(Enumerable.Repeat(ScoredIds.Empty, _rows.Count - 1)); // the rows before this one
            }
            _neighbors?.Add(neighbors ?? ScoredIds.Empty);
        }

        public UserNeighborModel Build()
        {
            _built = true;
            return new(
                _rows,
                [.. _start],
                _filled == _itemIds.Length ? _itemIds : _itemIds[.._filled],
                _filled == _itemScores.Length ? _itemScores : _itemScores[.._filled],
                _neighbors?.ToArray());
        }
    }
}
