using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using RecApp.Engine.Domain;
using RecApp.Engine.Model;

namespace RecApp.Engine.Scoring;

/// <summary>
/// Content: the content (category and tag) neighbors of the history, plus, for them and the most popular items of the
/// user's top categories, affinity to the user's profile (fresh from the history, merged with the stored one), lifted
/// by each item's popularity in its category.
/// </summary>
public sealed class ContentSource(RecommendationOptions options) : ICandidateSource
{
    /// <summary>The user's strongest categories whose popular items are candidates beyond the neighbors.</summary>
    public const int TopCategories = 3;

    /// <summary>Popular items taken from each of those categories.</summary>
    public const int PopularPerCategory = 50;

    /// <summary>Share of the category in profile affinity; the tags have the rest.</summary>
    public const float CategoryShare = 0.5f;

    public string Name => BlendWeights.ContentSource;

    /// <summary>
    /// Content: content neighbors of the history, plus affinity to the user's profile (fresh from the history,
    /// merged with the stored profile when there is one): half category weight, half tag weights.
    /// </summary>
    public Dictionary<long, float> Propose(CandidateContext context)
    {
        var (snapshot, userId, weights, allowed) = (context.Snapshot, context.UserId, context.History, context.Allowed);
        var scratch = context.Scratch;
        var scores = RankFusion.Normalize(ItemNeighborSource.Sum(snapshot.ItemNeighbors.Content, weights, allowed, scratch.Scores()));
        var categories = scratch.Names();
        // Tag weights by tag number (Catalog.TagNumbers); only the tags touched are ever non-zero, and only they are cleared.
        var tags = new TagWeights(snapshot.Catalog.TagCount);
        try
        {
            return Score(snapshot, userId, weights, allowed, scores, categories, ref tags);
        }
        finally
        {
            tags.Return();
        }
    }

    /// <summary>The profile (the history's, merged with the stored one), the candidates beyond the neighbors, and every candidate's affinity to the profile.</summary>
    private Dictionary<long, float> Score(
        ModelSnapshot snapshot, long userId, IReadOnlyDictionary<long, float> weights, Func<long, bool> allowed,
        Dictionary<long, float> scores, Dictionary<string, float> categories, ref TagWeights tags)
    {
        var catalog = snapshot.Catalog;
        var total = 0f;
        foreach (var (itemId, weight) in weights)
        {
            if (catalog.Find(itemId) is not { } item)
            {
                continue;
            }
            CollectionsMarshal.GetValueRefOrAddDefault(categories, item.Category, out _) += weight;
            foreach (var tag in catalog.TagNumbers(itemId))
            {
                tags.Add(tag, weight);
            }
            total += weight;
        }
        if (total > 0)
        {
            Divide(categories, total);
            tags.Divide(total);
        }
        if (snapshot.Profiles.Users.TryGetValue(userId, out var stored))
        {
            // Fresh and stored profiles weigh alike when both exist.
            var factor = total > 0 ? 0.5f : 1f;
            Merge(categories, stored.Categories, factor);
            // A stored tag no item of the catalog carries can match no candidate: it is left out.
            tags.Scale(factor);
            foreach (var (tag, value) in stored.Tags)
            {
                if (catalog.TryGetTagNumber(tag, out var number))
                {
                    tags.Add(number, value * factor);
                }
            }
        }
        if (categories.Count == 0)
        {
            return scores;
        }

        // Candidates beyond the neighbors: the most popular items of the user's top categories.
        var (previous, previousWeight) = ((string?)null, 0f);
        for (var taken = 0; taken < TopCategories; taken++)
        {
            // The next strongest category after the previous one (weight descending, then name): a few passes over a
            // few dozen categories instead of sorting them.
            var (category, categoryWeight) = ((string?)null, 0f);
            foreach (var (name, weight) in categories)
            {
                if ((previous is null || Before(previous, previousWeight, name, weight))
                    && (category is null || Before(name, weight, category, categoryWeight)))
                {
                    (category, categoryWeight) = (name, weight);
                }
            }
            if (category is null)
            {
                break;
            }
            (previous, previousWeight) = (category, categoryWeight);
            if (snapshot.Popularity.Lists.TryGetValue(new Demographics(Category: category), out var list))
            {
                for (var k = 0; k < Math.Min(PopularPerCategory, list.Ids.Length); k++)
                {
                    if (allowed(list.Ids[k]))
                    {
                        scores.TryAdd(list.Ids[k], 0f);
                    }
                }
            }
        }
        // The profile's category weights by category number, for the candidates' lookups; and each category's popularity
        // table, found by name once per category met rather than once per candidate.
        var categoryWeights = ArrayPool<float>.Shared.Rent(catalog.CategoryCount);
        var popularityTables = ArrayPool<Dictionary<long, float>?>.Shared.Rent(catalog.CategoryCount);
        var tablesFound = ArrayPool<bool>.Shared.Rent(catalog.CategoryCount);
        try
        {
            categoryWeights.AsSpan(0, catalog.CategoryCount).Clear();
            tablesFound.AsSpan(0, catalog.CategoryCount).Clear();
            foreach (var (name, weight) in categories)
            {
                if (catalog.TryGetCategoryNumber(name, out var number))
                {
                    categoryWeights[number] = weight;
                }
            }
            var popularity = CategoryPopularity.Of(snapshot.Popularity);
            // Values change in place (no key added or removed), so the enumeration stays valid.
            foreach (var (id, _) in scores)
            {
                if (catalog.Find(id) is not { } item)
                {
                    continue;
                }
                var tagAffinity = 0f;
                foreach (var tag in catalog.TagNumbers(id))
                {
                    tagAffinity += tags[tag];
                }
                var category = catalog.CategoryNumber(id);
                ref var score = ref CollectionsMarshal.GetValueRefOrNullRef(scores, id);
                score += CategoryShare * categoryWeights[category] + (1f - CategoryShare) * Math.Min(1f, tagAffinity);
                if (options.Scoring.ContentPopularityBoost > 0)
                {
                    if (!tablesFound[category])
                    {
                        (popularityTables[category], tablesFound[category]) = (popularity.Table(item.Category), true);
                    }
                    score *= 1f + options.Scoring.ContentPopularityBoost * (popularityTables[category]?.GetValueOrDefault(id) ?? 0f);
                }
            }
        }
        finally
        {
            ArrayPool<bool>.Shared.Return(tablesFound);
            ArrayPool<Dictionary<long, float>?>.Shared.Return(popularityTables, clearArray: true);
            ArrayPool<float>.Shared.Return(categoryWeights);
        }
        return scores;

        static bool Before(string a, float weightA, string b, float weightB) =>
            weightA.CompareTo(weightB) is var byWeight && (byWeight > 0 || (byWeight == 0 && string.CompareOrdinal(a, b) < 0));

        static void Divide(Dictionary<string, float> weights, float total)
        {
            foreach (var (key, _) in weights)
            {
                CollectionsMarshal.GetValueRefOrNullRef(weights, key) /= total;
            }
        }

        static void Merge(Dictionary<string, float> fresh, IReadOnlyDictionary<string, float> stored, float factor)
        {
            foreach (var (key, _) in fresh)
            {
                CollectionsMarshal.GetValueRefOrNullRef(fresh, key) *= factor;
            }
            foreach (var (key, value) in stored)
            {
                CollectionsMarshal.GetValueRefOrAddDefault(fresh, key, out _) += value * factor;
            }
        }
    }

    /// <summary>
    /// A user's weight per tag number, in pooled arrays: the weights, a mark per tag, and the tags touched, so that
    /// dividing, scaling and clearing visit only those (a catalog may carry far more tags than one profile).
    /// </summary>
    private ref struct TagWeights
    {
        private readonly float[] _weights;
        private readonly bool[] _marked;
        private readonly int[] _touched;
        private int _count;

        public TagWeights(int tagCount)
        {
            var length = Math.Max(tagCount, 1);
            (_weights, _marked, _touched) = (ArrayPool<float>.Shared.Rent(length), ArrayPool<bool>.Shared.Rent(length), ArrayPool<int>.Shared.Rent(length));
            _weights.AsSpan(0, tagCount).Clear();
            _marked.AsSpan(0, tagCount).Clear();
        }

        public readonly float this[int tag] => _weights[tag];

        /// <summary>Adds to a tag's weight, marking it touched the first time (a weight may sum to 0: the mark says it is there).</summary>
        public void Add(int tag, float weight)
        {
            if (!_marked[tag])
            {
                _marked[tag] = true;
                _touched[_count++] = tag;
            }
            _weights[tag] += weight;
        }

        public readonly void Divide(float total)
        {
            foreach (var tag in _touched.AsSpan(0, _count))
            {
                _weights[tag] /= total;
            }
        }

        public readonly void Scale(float factor)
        {
            foreach (var tag in _touched.AsSpan(0, _count))
            {
                _weights[tag] *= factor;
            }
        }

        /// <summary>Clears what was touched and gives the arrays back.</summary>
        public readonly void Return()
        {
            foreach (var tag in _touched.AsSpan(0, _count))
            {
                (_weights[tag], _marked[tag]) = (0f, false);
            }
            ArrayPool<int>.Shared.Return(_touched);
            ArrayPool<bool>.Shared.Return(_marked);
            ArrayPool<float>.Shared.Return(_weights);
        }
    }

    /// <summary>
    /// An item's popularity in its category (global segment list), relative to the category's best; 0 when unlisted.
    /// One per popularity model, shared by every request on it (the model is immutable): the per-category tables were
    /// rebuilt per request before, a large share of the source's cost.
    /// </summary>
    private sealed class CategoryPopularity(PopularityModel model)
    {
        private static readonly ConditionalWeakTable<PopularityModel, CategoryPopularity> Shared = new();

        private readonly ConcurrentDictionary<string, Dictionary<long, float>?> _byCategory = new(StringComparer.Ordinal);

        public static CategoryPopularity Of(PopularityModel model) => Shared.GetValue(model, static m => new CategoryPopularity(m));

        /// <summary>
        /// Each listed item of <paramref name="category"/> → its popularity relative to the category's best (an item not
        /// in it: 0); null when the category has no list. Built at most once per category and never changed after:
        /// concurrent readers only read.
        /// </summary>
        public Dictionary<long, float>? Table(string category) => _byCategory.GetOrAdd(category, Build, model);

        private static Dictionary<long, float>? Build(string category, PopularityModel model)
        {
            if (!model.Lists.TryGetValue(new Demographics(Category: category), out var list) || list.Ids.Length == 0)
            {
                return null;
            }
            var best = Math.Max(list.Scores[0], 1e-9f);
            var relative = new Dictionary<long, float>(list.Ids.Length);
            for (var k = 0; k < list.Ids.Length; k++)
            {
                relative[list.Ids[k]] = list.Scores[k] / best;
            }
            return relative;
        }
    }
}
