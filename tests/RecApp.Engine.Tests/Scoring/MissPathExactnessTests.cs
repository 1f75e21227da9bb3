using RecApp.Engine.Domain;
using RecApp.Engine.Model;
using RecApp.Engine.Scoring;

namespace RecApp.Engine.Tests;

/// <summary>
/// The miss path's cheaper building blocks (issue 18) give exactly what the code they replaced gave: the key-sorted
/// order equals the comparison order (ties by id, −0 equal to +0, any limit), the fallback takes NaN scores and ids
/// past 32 bits, and the catalog's array lookup answers like its dictionary.
/// </summary>
public sealed class MissPathExactnessTests
{
    private static List<(long Id, float Score)> Reference(IEnumerable<(long Id, float Score)> pairs, int limit) =>
        [.. pairs.OrderBy(p => p, Comparer<(long Id, float Score)>.Create(static (a, b) =>
            a.Score != b.Score ? b.Score.CompareTo(a.Score) : a.Id.CompareTo(b.Id))).Take(limit)];

    [Theory]
    [InlineData(1, 0)]
    [InlineData(2, 5)]
    [InlineData(3, 50)]
    [InlineData(4, 800)]
    [InlineData(5, int.MaxValue)]
    public void Order_matches_the_comparison_order_for_any_limit(int seed, int limit)
    {
        var random = new Random(seed);
        // Few distinct scores (many ties), both zeros, negatives, infinities, ids up to 2^32 − 1.
        float[] palette = [0f, -0f, 1f, -1f, 0.5f, 1e-30f, -1e-30f, float.PositiveInfinity, float.NegativeInfinity, 3.25f];
        var ids = new HashSet<long>();
        while (ids.Count < 3000)
        {
            ids.Add(random.Next(4) == 0 ? uint.MaxValue - random.Next(100) : random.Next(1, 100_000));
        }
        var pairs = ids.Select(id => (id, random.Next(3) == 0 ? palette[random.Next(palette.Length)] : (float)random.NextDouble())).ToArray();

        var ordered = ListAssembly.Order(pairs.ToArray(), limit);

        Assert.Equal(Reference(pairs, limit), ordered);
        // Bit for bit: −0 stays −0.
        Assert.Equal(Reference(pairs, limit).Select(p => BitConverter.SingleToInt32Bits(p.Score)), ordered.Select(p => BitConverter.SingleToInt32Bits(p.Score)));
    }

    [Fact]
    public void Order_falls_back_for_nan_scores_and_wide_ids()
    {
        (long Id, float Score)[] wide = [(1L << 40, 1f), (3, 1f), (-5, 2f), (7, 0.5f)];
        Assert.Equal(Reference(wide, 3), ListAssembly.Order(wide.ToArray(), 3));
        (long Id, float Score)[] nan = [(1, float.NaN), (2, 1f), (3, 0f)];
        // Whatever the comparison sort makes of NaN, the keyed sort is not used for it.
        var expected = nan.ToArray();
        expected.AsSpan().Sort(static (a, b) => a.Score != b.Score ? b.Score.CompareTo(a.Score) : a.Id.CompareTo(b.Id));
        Assert.Equal(expected, ListAssembly.Order(nan.ToArray(), 3));
    }

    [Fact]
    public void Dictionary_order_equals_the_span_order()
    {
        var random = new Random(9);
        var scores = Enumerable.Range(1, 500).ToDictionary(i => (long)i * 3, _ => (float)Math.Round(random.NextDouble(), 2));
        Assert.Equal(Reference(scores.Select(p => (p.Key, p.Value)), 40), ListAssembly.Order(scores, 40));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Catalog_lookup_is_the_same_dense_or_sparse(bool sparse)
    {
        var items = Enumerable.Range(1, 300)
            .Select(i => new CatalogItem(sparse ? i * 1_000_000L : i, $"item {i}", $"c{i % 7}", [], 10m, null, i % 5 != 0, new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddHours(i)))
            .ToList();
        var catalog = Catalog.Create(items);
        foreach (var item in items)
        {
            Assert.Same(item, catalog.Find(item.Id));
            Assert.Equal(item.Active, catalog.IsActive(item.Id));
        }
        Assert.All(items, item => Assert.Equal((true, item.CreatedAt), (catalog.TryGetCreatedAt(item.Id, out var created), created)));
        // Category numbers group exactly as the names do; an unknown item counts as the category "".
        string CategoryOf(long id) => catalog.Find(id)?.Category ?? "";
        var probe = items.Select(i => i.Id).Concat([0L, -1L, 301L, 299_999_999L]).ToList();
        Assert.All(probe, a => Assert.All(probe, b =>
            Assert.Equal(CategoryOf(a) == CategoryOf(b), catalog.CategoryNumber(a) == catalog.CategoryNumber(b))));
        Assert.All(probe, id => Assert.InRange(catalog.CategoryNumber(id), 0, catalog.CategoryCount - 1));
        Assert.Equal(8, catalog.CategoryCount); // c0..c6 and ""
        foreach (var missing in new[] { 0L, -1L, 301L, long.MaxValue, long.MinValue, 299_999_999L })
        {
            Assert.Null(catalog.Find(missing));
            Assert.False(catalog.IsActive(missing));
            Assert.False(catalog.TryGetCreatedAt(missing, out _));
        }
        var changed = catalog.With([items[0] with { Active = false }, items[0] with { Id = sparse ? 7L : 5000 }]);
        Assert.False(changed.IsActive(items[0].Id));
        Assert.NotNull(changed.Find(sparse ? 7L : 5000));
        Assert.True(catalog.IsActive(items[0].Id));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Tag_numbers_name_each_items_tags_in_order_dense_or_sparse(bool sparse)
    {
        string[] vocabulary = ["red", "blue", "gift", "sale", "wool"];
        var items = Enumerable.Range(1, 300)
            .Select(i => new CatalogItem(sparse ? i * 1_000_000L : i, $"item {i}", $"c{i % 7}",
                [.. Enumerable.Range(0, i % 4).Select(t => vocabulary[(i + t * 3) % vocabulary.Length]), .. i % 50 == 0 ? new[] { "red" } : []],
                10m, null, true, new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc)))
            .ToList();
        var catalog = Catalog.Create(items);

        Assert.Equal(vocabulary.Length, catalog.TagCount);
        var names = new string[catalog.TagCount];
        foreach (var tag in vocabulary)
        {
            Assert.True(catalog.TryGetTagNumber(tag, out var number));
            names[number] = tag;
        }
        Assert.All(items, item => Assert.Equal(item.Tags, catalog.TagNumbers(item.Id).ToArray().Select(n => names[n])));
        Assert.False(catalog.TryGetTagNumber("unknown", out _));
        foreach (var missing in new[] { 0L, -1L, 301L, long.MaxValue, long.MinValue, 299_999_999L })
        {
            Assert.True(catalog.TagNumbers(missing).IsEmpty);
        }
        Assert.True(catalog.TryGetCategoryNumber("c3", out var c3));
        Assert.Equal(c3, catalog.CategoryNumber(items[2].Id));
        Assert.False(catalog.TryGetCategoryNumber("c9", out _));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void The_catalog_admits_exactly_what_the_filter_rule_admits(bool sparse)
    {
        var items = Enumerable.Range(1, 300)
            .Select(i => new CatalogItem(sparse ? i * 1_000_000L : i, $"item {i}", $"c{i % 3}", [], 10m * (i % 9), i % 4 == 0 ? null : i % 3,
                i % 5 != 0, new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc)))
            .ToList();
        var catalog = Catalog.Create(items);
        RecommendationFilters[] filters =
        [
            RecommendationFilters.None, new(), new(PriceFrom: 30m), new(PriceTo: 40m), new(Category: "c1"), new(GeoId: 2),
            new(10m, 60m, "c2", 1),
        ];
        var ids = items.Select(i => i.Id).Concat([0L, -1L, 301L, long.MaxValue, long.MinValue, 299_999_999L]);
        foreach (var filter in filters)
        {
            Assert.All(ids, id => Assert.Equal(filter.Admits(catalog.Find(id)), catalog.Admits(filter, id)));
        }
        Assert.True(filters[0].IsNone && filters[1].IsNone);
        Assert.DoesNotContain(filters[2..], f => f.IsNone);
        Assert.Contains(ids, id => catalog.Admits(RecommendationFilters.None, id));
        Assert.Contains(ids, id => !catalog.Admits(RecommendationFilters.None, id) && catalog.Find(id) is not null);
    }

    [Fact]
    public void IsNone_is_false_whenever_any_filter_is_set()
    {
        // Reflection, so a filter added later without a place in IsNone fails here instead of being skipped silently.
        var properties = typeof(RecommendationFilters).GetProperties()
            .Where(p => p.CanWrite && Nullable.GetUnderlyingType(p.PropertyType) is not null || p.PropertyType == typeof(string))
            .ToList();
        Assert.Equal(4, properties.Count);
        foreach (var property in properties)
        {
            var value = Nullable.GetUnderlyingType(property.PropertyType) is { } underlying
                ? Convert.ChangeType(1, underlying) : (object)"x";
            var filters = new RecommendationFilters();
            property.SetValue(filters, value);
            Assert.False(filters.IsNone, property.Name);
        }
        Assert.True(new RecommendationFilters().IsNone);
    }
}
