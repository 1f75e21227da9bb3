using RecApp.Recommendations.Data;

namespace RecApp.Recommendations.Evaluation;

/// <summary>
/// A small planted-structure dataset for the engine's own tests and benchmarks (the product's generator is the
/// Refresher's <c>seed</c> verb): categories with their own tags, users whose favourite categories follow their
/// demographics, a personal taste group inside categories (item-level structure that popularity cannot see), Zipf
/// popularity inside a category, mixed event types over the last 60 days. Deterministic.
/// </summary>
internal static class SyntheticDataset
{
    private static readonly string[] s_genders = ["f", "m"];
    private static readonly string[] s_ages = ["18-24", "25-34", "35-44", "45-54", "55+"];
    private static readonly InteractionType[] s_types =
        [InteractionType.View, InteractionType.View, InteractionType.View, InteractionType.Click, InteractionType.Click,
         InteractionType.Like, InteractionType.WishlistAdd, InteractionType.AddToCart, InteractionType.Purchase];

    public static Dataset Create(int items, int users, int interactions, int seed = 7, int categories = 20, DateTime? now = null)
    {
        var random = new Random(seed);
        var asOf = now ?? new DateTime(2026, 11, 1, 0, 0, 0, DateTimeKind.Utc);
        var catalog = new CatalogItem[items];
        const int groups = 4;
        var byCategory = new List<long>[categories];
        var byGroup = new List<long>[categories, groups];
        for (var c = 0; c < categories; c++)
        {
            byCategory[c] = [];
            for (var g = 0; g < groups; g++)
            {
                byGroup[c, g] = [];
            }
        }
        for (var i = 0; i < items; i++)
        {
            var category = i % categories;
            var group = i / categories % groups;
            var tags = Enumerable.Range(0, 2).Select(_ => $"c{category}-t{random.Next(12)}").Append($"c{category}-g{group}").Distinct().ToArray();
            catalog[i] = new CatalogItem(i + 1, $"Item {i + 1}", $"cat{category}", tags, 5 + random.Next(500),
                random.Next(10) == 0 ? 1 + random.Next(5) : null, true, asOf.AddDays(-random.Next(365)));
            byCategory[category].Add(i + 1);
            byGroup[category, group].Add(i + 1);
        }
        var people = new UserDemographics[users];
        var favourites = new int[users][];
        var taste = new int[users];
        for (var u = 0; u < users; u++)
        {
            var gender = random.Next(2);
            var age = random.Next(s_ages.Length);
            people[u] = new UserDemographics(u + 1, s_genders[gender], s_ages[age], 1 + random.Next(5));
            // Taste follows demographics: a segment's first favourite is shared, the second is personal.
            favourites[u] = [(gender * s_ages.Length + age) % categories, random.Next(categories)];
            taste[u] = random.Next(groups);
        }

        // Zipf over users (activity) and over items inside each category (popularity).
        var userWeights = Zipf(users, 0.8, random);
        var events = new Interaction[interactions];
        for (var e = 0; e < interactions; e++)
        {
            var u = Sample(userWeights, random);
            var category = random.NextDouble() < 0.8 ? favourites[u][random.Next(2)] : random.Next(categories);
            var list = random.NextDouble() < 0.6 && byGroup[category, taste[u]].Count > 0 ? byGroup[category, taste[u]] : byCategory[category];
            var rank = (int)Math.Min(list.Count - 1, Math.Floor(Math.Pow(random.NextDouble(), 2.5) * list.Count));
            events[e] = new Interaction(u + 1, list[rank], s_types[random.Next(s_types.Length)], null,
                asOf.AddMinutes(-random.Next(60 * 24 * 60)));
        }
        return new Dataset(catalog, people, events);
    }

    private static double[] Zipf(int n, double exponent, Random random)
    {
        var weights = new double[n];
        var order = Enumerable.Range(0, n).OrderBy(_ => random.Next()).ToArray();
        var sum = 0.0;
        for (var i = 0; i < n; i++)
        {
            sum += 1 / Math.Pow(i + 1, exponent);
            weights[order[i]] = 1 / Math.Pow(i + 1, exponent);
        }
        // Cumulative, for binary-search sampling.
        var cumulative = 0.0;
        for (var i = 0; i < n; i++)
        {
            cumulative += weights[i] / sum;
            weights[i] = cumulative;
        }
        return weights;
    }

    private static int Sample(double[] cumulative, Random random)
    {
        var index = Array.BinarySearch(cumulative, random.NextDouble());
        return Math.Min(index < 0 ? ~index : index, cumulative.Length - 1);
    }
}
