using System.Runtime.InteropServices;
using RecApp.Engine.Domain;
using RecApp.Engine.Embeddings;

namespace RecApp.Engine.Model;

/// <summary>
/// The catalog as scoring sees it: every item by id, active or not (an inactive item is never returned, but its
/// neighbors still explain a history). Immutable; a change produces a new catalog (copy on write), so readers
/// holding the old one are never disturbed.
/// </summary>
public sealed class Catalog
{
    private readonly Dictionary<long, CatalogItem> _items;

    // The same items by id as an array when ids are dense enough (every product catalog and dataset here numbers items
    // from 1): scoring looks items up tens of thousands of times per request, and an array read is far cheaper than a
    // hash lookup. Null when the ids are sparse; Find then uses the dictionary.
    private readonly CatalogItem?[]? _dense;

    // Whether each dense id is active, one byte each: the unfiltered request's servability check runs thousands of times
    // per cache miss, and reading the item object for its flag was 7% of the API's CPU per miss (perf, 64-connection
    // misses at S), most of it waiting on memory.
    private readonly bool[]? _activeDense;

    // Each dense id's creation time, for the freshness boost every candidate of a miss gets (same reason).
    private readonly DateTime[]? _createdDense;

    // Each category name as a small number ("" always present, the category of an unknown item), and
    // each dense id's number: diversity counts categories per page for every ranked item of a miss.
    private readonly Dictionary<string, int> _categoryIndex;
    private readonly int[]? _categoryDense;

    // Each tag name as a small number, and every item's tags as numbers in the item's order, one flat array with a
    // slice per item (by dense id, or by _tagPositions' position when ids are sparse): the content source weighs each
    // candidate's tags against the user's, hundreds of candidates per miss, and a string hash per tag was most of that.
    private readonly Dictionary<string, int> _tagIndex = new(StringComparer.Ordinal);
    private readonly int[] _tagStarts;
    private readonly int[] _tagNumbers;
    private readonly Dictionary<long, int>? _tagPositions;

    private static long s_created;

    /// <summary>
    /// Which catalog this is: greater for every catalog created later in this process, so work done against one
    /// catalog can be keyed by it without holding the catalog alive.
    /// </summary>
    public long Version { get; } = Interlocked.Increment(ref s_created);

    private Catalog(Dictionary<long, CatalogItem> items)
    {
        _items = items;
        _categoryIndex = new Dictionary<string, int>(StringComparer.Ordinal) { [""] = 0 };
        foreach (var item in items.Values)
        {
            _categoryIndex.TryAdd(item.Category, _categoryIndex.Count);
        }
        var (max, negative) = (-1L, false);
        foreach (var id in items.Keys)
        {
            negative |= id < 0;
            max = Math.Max(max, id);
        }
        var isDense = !negative && max >= 0 && max < 4L * items.Count + 1024;
        (_tagStarts, _tagNumbers, _tagPositions) = NumberTags(items, isDense ? (int)max + 1 : -1, _tagIndex);
        if (isDense)
        {
            _dense = new CatalogItem?[max + 1];
            _activeDense = new bool[max + 1];
            _createdDense = new DateTime[max + 1];
            _categoryDense = new int[max + 1];
            Array.Fill(_categoryDense, _categoryIndex[""]);
            foreach (var (id, item) in items)
            {
                _dense[id] = item;
                _activeDense[id] = item.Active;
                _createdDense[id] = item.CreatedAt;
                _categoryDense[id] = _categoryIndex[item.Category];
            }
        }
    }

    /// <summary>
    /// The tag slices (see the fields): by id when <paramref name="denseLength"/> is not −1, else by a position per id
    /// (the dictionary returned). Numbers are given in the order tags are first met.
    /// </summary>
    private static (int[] Starts, int[] Numbers, Dictionary<long, int>? Positions) NumberTags(
        Dictionary<long, CatalogItem> items, int denseLength, Dictionary<string, int> index)
    {
        var positions = denseLength < 0 ? new Dictionary<long, int>(items.Count) : null;
        var starts = new int[(positions is null ? denseLength : items.Count) + 1];
        var total = 0;
        foreach (var (id, item) in items)
        {
            var position = positions is null ? (int)id : positions[id] = positions.Count;
            starts[position + 1] = item.Tags.Length; // a count for now: the running sum below makes the starts
            total += item.Tags.Length;
        }
        for (var i = 1; i < starts.Length; i++)
        {
            starts[i] += starts[i - 1];
        }
        var numbers = new int[total];
        foreach (var (id, item) in items)
        {
            var start = starts[positions is null ? (int)id : positions[id]];
            for (var t = 0; t < item.Tags.Length; t++)
            {
                ref var number = ref CollectionsMarshal.GetValueRefOrAddDefault(index, item.Tags[t], out var known);
                if (!known)
                {
                    number = index.Count - 1;
                }
                numbers[start + t] = number;
            }
        }
        return (starts, numbers, positions);
    }

    public static Catalog Empty { get; } = new([]);

    public int Count => _items.Count;

    public static Catalog Create(IEnumerable<CatalogItem> items)
    {
        var dictionary = new Dictionary<long, CatalogItem>();
        foreach (var item in items)
        {
            dictionary[item.Id] = item;
        }
        return new Catalog(dictionary);
    }

    public CatalogItem? Find(long id) =>
        _dense is { } dense ? ((ulong)id < (ulong)dense.Length ? dense[id] : null) : _items.GetValueOrDefault(id);

    /// <summary>
    /// One past the largest id the catalog's arrays index when ids are dense, else 0: a caller may keep per-item marks in
    /// an array of this length, and an id at or beyond it belongs to no catalog item.
    /// </summary>
    public int DenseIdLimit => _dense?.Length ?? 0;

    public bool IsActive(long id) =>
        _activeDense is { } active ? (ulong)id < (ulong)active.Length && active[id] : Find(id) is { Active: true };

    /// <summary>How many distinct categories <see cref="CategoryNumber"/> gives (every item's, and "" for unknown items).</summary>
    public int CategoryCount => _categoryIndex.Count;

    /// <summary>The item's category as a number below <see cref="CategoryCount"/>; an unknown item's is the number of "".</summary>
    public int CategoryNumber(long id) =>
        _categoryDense is { } dense
            ? ((ulong)id < (ulong)dense.Length ? dense[id] : _categoryIndex[""])
            : _categoryIndex[Find(id)?.Category ?? ""];

    /// <summary>The category's number (<see cref="CategoryNumber"/>); false when no item of this catalog has it.</summary>
    public bool TryGetCategoryNumber(string category, out int number) => _categoryIndex.TryGetValue(category, out number);

    /// <summary>How many distinct tags the catalog's items carry (<see cref="TagNumbers"/> are below it).</summary>
    public int TagCount => _tagIndex.Count;

    /// <summary>The tag's number; false when no item of this catalog carries it.</summary>
    public bool TryGetTagNumber(string tag, out int number) => _tagIndex.TryGetValue(tag, out number);

    /// <summary>The item's tags as numbers below <see cref="TagCount"/>, in the item's order; empty for an unknown item.</summary>
    public ReadOnlySpan<int> TagNumbers(long id)
    {
        int position;
        if (_tagPositions is null)
        {
            if ((ulong)id >= (ulong)(_tagStarts.Length - 1))
            {
                return [];
            }
            position = (int)id;
        }
        else if (!_tagPositions.TryGetValue(id, out position))
        {
            return [];
        }
        return _tagNumbers.AsSpan(_tagStarts[position], _tagStarts[position + 1] - _tagStarts[position]);
    }

    /// <summary>When the item <paramref name="id"/> was created; false when the catalog has no such item.</summary>
    public bool TryGetCreatedAt(long id, out DateTime createdAt)
    {
        if (_createdDense is { } created)
        {
            var known = (ulong)id < (ulong)created.Length && _dense![id] is not null;
            createdAt = known ? created[id] : default;
            return known;
        }
        var item = Find(id);
        createdAt = item?.CreatedAt ?? default;
        return item is not null;
    }

    /// <summary>Whether <paramref name="filters"/> admit the item <paramref name="id"/> (<see cref="RecommendationFilters.Admits"/>).</summary>
    public bool Admits(RecommendationFilters filters, long id) => filters.IsNone ? IsActive(id) : filters.Admits(Find(id));

    public IEnumerable<CatalogItem> Items => _items.Values;

    /// <summary>This catalog with <paramref name="changes"/> applied (new items added, known ones replaced).</summary>
    public Catalog With(IReadOnlyCollection<CatalogItem> changes)
    {
        if (changes.Count == 0)
        {
            return this;
        }
        var copy = new Dictionary<long, CatalogItem>(_items);
        foreach (var item in changes)
        {
            copy[item.Id] = item;
        }
        return new Catalog(copy);
    }
}

/// <summary>
/// One immutable view of the global model for the API: the catalog plus every published part (absent parts are
/// empty, so an empty database still answers). <see cref="Version"/> is the highest current part version.
/// </summary>
public sealed record ModelSnapshot(
    Catalog Catalog,
    IReadOnlyDictionary<string, long> PartVersions,
    PopularityModel Popularity,
    TrendingModel Trending,
    ItemNeighborModel ItemNeighbors,
    UserNeighborModel UserNeighbors,
    ProfileModel Profiles)
{
    public static ModelSnapshot Empty { get; } = new(
        Catalog.Empty,
        new Dictionary<string, long>(),
        new PopularityModel(new Dictionary<Demographics, ScoredIds>()),
        new TrendingModel(ScoredIds.Empty, new Dictionary<string, ScoredIds>()),
        new ItemNeighborModel(new Dictionary<long, ScoredIds>(), new Dictionary<long, ScoredIds>()),
        UserNeighborModel.Empty,
        new ProfileModel(new Dictionary<long, UserProfile>()));

    public long Version => PartVersions.Count == 0 ? 0 : PartVersions.Values.Max();

    /// <summary>Whether a version of the part named <paramref name="part"/> has been loaded.</summary>
    public bool Has(string part) => PartVersions.ContainsKey(part);

    /// <summary>What the build chose (data clock, decay, blend weights); defaults before the first build.</summary>
    public ModelTuning Tuning { get; init; } = ModelTuning.Default;

    /// <summary>Item vectors of the embedding source; empty before the first build that made them.</summary>
    public ItemEmbeddingIndex Embeddings { get; init; } = ItemEmbeddingIndex.Empty;

    /// <summary>A snapshot of a model built in memory (evaluation, benchmarks, tests); version 0.</summary>
    public static ModelSnapshot FromModel(IEnumerable<CatalogItem> items, GlobalModel model) =>
        new(Catalog.Create(items), Empty.PartVersions, model.Popularity, model.Trending, model.ItemNeighbors, model.UserNeighbors, model.Profiles)
        {
            Tuning = model.Tuning,
            Embeddings = model.Embeddings,
        };
}
