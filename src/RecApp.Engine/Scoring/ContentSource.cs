using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
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
        var scores = RankFusion.Normalize(ItemNeighborSource.Sum(snapshot.ItemNeighbors.Content, weights, allowed));
        var categories = new Dictionary<string, float>(StringComparer.Ordinal);
        var tags = new Dictionary<string, float>(StringComparer.Ordinal);
        var total = 0f;
        foreach (var (itemId, weight) in weights)
        {
            if (snapshot.Catalog.Find(itemId) is not { } item)
            {
                continue;
            }
            categories[item.Category] = categories.GetValueOrDefault(item.Category) + weight;
            foreach (var tag in item.Tags)
            {
                tags[tag] = tags.GetValueOrDefault(tag) + weight;
            }
            total += weight;
        }
        if (total > 0)
        {
            foreach (var key in categories.Keys.ToArray())
            {
                categories[key] /= total;
            }
            foreach (var key in tags.Keys.ToArray())
            {
                tags[key] /= total;
            }
        }
        if (snapshot.Profiles.Users.TryGetValue(userId, out var stored))
        {
            Merge(categories, stored.Categories, total > 0);
            Merge(tags, stored.Tags, total > 0);
        }
        if (categories.Count == 0)
        {
            return scores;
        }

        // Candidates beyond the neighbors: the most popular items of the user's top categories.
        foreach (var (category, _) in categories.OrderByDescending(c => c.Value).ThenBy(c => c.Key, StringComparer.Ordinal).Take(TopCategories))
        {
            if (snapshot.Popularity.Lists.TryGetValue(new Demographics(Category: category), out var list))
            {
                foreach (var id in list.Ids.Take(PopularPerCategory))
                {
                    if (allowed(id))
                    {
                        scores.TryAdd(id, 0f);
                    }
                }
            }
        }
        var popularity = CategoryPopularity.Of(snapshot.Popularity);
        foreach (var id in scores.Keys.ToArray())
        {
            if (snapshot.Catalog.Find(id) is not { } item)
            {
                continue;
            }
            var tagAffinity = 0f;
            foreach (var tag in item.Tags)
            {
                tagAffinity += tags.GetValueOrDefault(tag);
            }
            scores[id] += CategoryShare * categories.GetValueOrDefault(item.Category) + (1f - CategoryShare) * Math.Min(1f, tagAffinity);
            if (options.Scoring.ContentPopularityBoost > 0)
            {
                scores[id] *= 1f + options.Scoring.ContentPopularityBoost * popularity.Relative(item);
            }
        }
        return scores;

        static void Merge(Dictionary<string, float> fresh, IReadOnlyDictionary<string, float> stored, bool halve)
        {
            var factor = halve ? 0.5f : 1f; // fresh and stored profiles weigh alike when both exist
            foreach (var key in fresh.Keys.ToArray())
            {
                fresh[key] *= factor;
            }
            foreach (var (key, value) in stored)
            {
                fresh[key] = fresh.GetValueOrDefault(key) + value * factor;
            }
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

        public float Relative(CatalogItem item)
        {
            // Built at most once per category and never changed after: concurrent readers only read.
            var relative = _byCategory.GetOrAdd(item.Category, Build, model);
            return relative?.GetValueOrDefault(item.Id) ?? 0f;
        }

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
