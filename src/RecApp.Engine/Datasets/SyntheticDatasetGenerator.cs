using RecApp.Engine.Domain;


namespace RecApp.Engine.Datasets;

/// <summary>What to generate: a size, a random seed, and the instant the generated history ends.</summary>
public sealed record SyntheticDatasetOptions(SyntheticDatasetSize Size, int Seed)
{
    /// <summary>A fixed "now", so the same seed gives the same data on any day.</summary>
    public static readonly DateTime DefaultReferenceEnd = new(2026, 11, 1, 0, 0, 0, DateTimeKind.Utc);

    public DateTime ReferenceEnd { get; init; } = DefaultReferenceEnd;

    /// <summary>How far back the interactions go.</summary>
    public int Days { get; init; } = 180;
}

/// <summary>
/// Generates a catalog, users and interactions with structure a recommender can learn. Items belong to
/// <em>niches</em> (a category plus two signature tags and a price band); each user has latent taste: two or three
/// niches in categories that depend on the user's gender and age group, a price tolerance and a home region.
/// Most engagements come from the user's niches, some from local items and some from global (Zipf) popularity,
/// so collaborative and content methods beat popularity on a holdout while popularity is still a fair baseline.
/// Deterministic for a given <see cref="SyntheticDatasetOptions"/>; each user draws from its own random stream,
/// so users are generated in parallel without changing the result.
/// </summary>
public static class SyntheticDatasetGenerator
{
    private const int RegionCount = 20;
    private const double ShareFromNiches = 0.80;
    private const double ShareFromRegion = 0.05;

    private static readonly string[] s_categories =
    [
        "electronics", "books", "toys", "home", "kitchen", "garden", "sports", "outdoors", "fashion", "shoes", "jewelry",
        "beauty", "health", "baby", "pets", "music", "movies", "games", "office", "crafts", "automotive", "tools", "food",
        "travel",
    ];

    private static readonly string[] s_styles =
        ["classic", "premium", "compact", "eco", "vintage", "smart", "handmade", "kids", "pro", "travel-size"];

    private static readonly string[] s_crossTags = ["gift", "bestseller", "sale", "new-arrival", "limited", "bundle"];

    public static Dataset Generate(SyntheticDatasetOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Days < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "Days must be at least 1.");
        }
        var random = new Random(options.Seed);
        var end = DateTime.SpecifyKind(options.ReferenceEnd, DateTimeKind.Utc);
        var start = end.AddDays(-options.Days);
        var catalog = BuildCatalog(options.Size, random, start, end);
        var (users, tastes) = BuildUsers(options.Size, catalog, random);
        var interactions = BuildInteractions(options, catalog, tastes, start, end);
        return new Dataset(catalog.Items, users, interactions);
    }

    private sealed class Catalog
    {
        public required CatalogItem[] Items;
        public required int CategoryCount;
        public required Niche[] Niches;
        /// <summary>Niche indexes per category, with cumulative niche popularity for sampling.</summary>
        public required int[][] NichesByCategory;
        public required double[][] NicheCumulativeByCategory;
        /// <summary>Cumulative Zipf weights over all items (index = item id - 1).</summary>
        public required double[] GlobalCumulative;
        public required int[][] ItemsByRegion;
        public required double[][] RegionCumulative;
    }

    private sealed class Niche
    {
        public required int Category;
        public required double PriceCenter;
        public readonly List<int> Items = [];
        public double[] Cumulative = [];
    }

    private readonly record struct Taste(int[] Niches, double[] NicheCumulative, double PriceTolerance, int Region);

    private static (double Low, double High) PriceBand(string category) => category switch
    {
        "electronics" => (150, 1_500),
        "jewelry" => (40, 800),
        _ => (8, 8 * Math.Exp(3.5)), // about 265
    };

    private static Catalog BuildCatalog(SyntheticDatasetSize size, Random random, DateTime start, DateTime end)
    {
        var categoryCount = Math.Clamp(size.Items / 40, 4, s_categories.Length);
        var nichesPerCategory = Math.Max(2, size.Items / (categoryCount * 80));
        var categoryBasePrice = new double[categoryCount];
        for (var c = 0; c < categoryCount; c++)
        {
            // One draw per category, inside the category's price band (most 8 .. 265; electronics 150 .. 1,500, so seed
            // 002's example, electronics priced 500-2,000, finds items). Prices only matter relative to a niche's
            // centre, so the band does not change who likes what.
            var (low, high) = PriceBand(s_categories[c]);
            categoryBasePrice[c] = low * Math.Pow(high / low, random.NextDouble());
        }

        var niches = new Niche[categoryCount * nichesPerCategory];
        var nicheTags = new string[niches.Length][];
        for (var n = 0; n < niches.Length; n++)
        {
            var category = n % categoryCount;
            var first = random.Next(s_styles.Length);
            var second = (first + 1 + random.Next(s_styles.Length - 1)) % s_styles.Length;
            nicheTags[n] = [s_styles[first], s_styles[second]];
            niches[n] = new Niche { Category = category, PriceCenter = categoryBasePrice[category] * Math.Exp(0.5 * Gaussian(random)) };
        }

        // Global popularity: a random permutation of ranks, Zipf weights.
        var rank = Enumerable.Range(0, size.Items).ToArray();
        random.Shuffle(rank);
        var popularity = new double[size.Items];
        var items = new CatalogItem[size.Items];
        var history = end - start;
        for (var i = 0; i < size.Items; i++)
        {
            var id = i + 1;
            popularity[i] = 1.0 / Math.Pow(rank[i] + 10, 0.9);
            var nicheIndex = random.Next(niches.Length);
            var niche = niches[nicheIndex];
            niche.Items.Add(i);
            var category = s_categories[niche.Category];
            var tags = new List<string>(4) { nicheTags[nicheIndex][0], nicheTags[nicheIndex][1] };
            if (random.NextDouble() < 0.3)
            {
                var extra = s_styles[random.Next(s_styles.Length)];
                if (!tags.Contains(extra))
                {
                    tags.Add(extra);
                }
            }
            if (random.NextDouble() < 0.2)
            {
                tags.Add(s_crossTags[random.Next(s_crossTags.Length)]);
            }
            var price = Math.Round((decimal)(niche.PriceCenter * Math.Exp(0.25 * Gaussian(random))), 0) - 0.01m;
            int? geo = random.NextDouble() < 0.25 ? 1 + random.Next(RegionCount) : null;
            var createdAt = random.NextDouble() < 0.85
                ? start - TimeSpan.FromDays(random.NextDouble() * 730)
                : start + history * random.NextDouble();
            var title = $"{Capitalize(tags[0])} {tags[1]} {category} #{id}";
            items[i] = new CatalogItem(id, title, category, [.. tags], Math.Max(price, 0.99m), geo,
                Active: random.NextDouble() >= 0.02, TruncateToMicroseconds(createdAt));
        }

        foreach (var niche in niches)
        {
            niche.Cumulative = Cumulative(niche.Items.Select(i => popularity[i]));
        }
        var nichesByCategory = new int[categoryCount][];
        var nicheCumulativeByCategory = new double[categoryCount][];
        for (var c = 0; c < categoryCount; c++)
        {
            nichesByCategory[c] = Enumerable.Range(0, niches.Length).Where(n => niches[n].Category == c && niches[n].Items.Count > 0).ToArray();
            // Some niches are more popular than others: Zipf over a random order.
            var weights = nichesByCategory[c].Select((_, k) => 1.0 / (k + 1)).ToArray();
            random.Shuffle(weights);
            nicheCumulativeByCategory[c] = Cumulative(weights);
        }

        var itemsByRegion = new int[RegionCount + 1][];
        var regionCumulative = new double[RegionCount + 1][];
        for (var r = 1; r <= RegionCount; r++)
        {
            itemsByRegion[r] = Enumerable.Range(0, size.Items).Where(i => items[i].GeoId == r).ToArray();
            regionCumulative[r] = Cumulative(itemsByRegion[r].Select(i => popularity[i]));
        }
        itemsByRegion[0] = [];
        regionCumulative[0] = [];

        return new Catalog
        {
            Items = items,
            CategoryCount = categoryCount,
            Niches = niches,
            NichesByCategory = nichesByCategory,
            NicheCumulativeByCategory = nicheCumulativeByCategory,
            GlobalCumulative = Cumulative(popularity),
            ItemsByRegion = itemsByRegion,
            RegionCumulative = regionCumulative,
        };
    }

    private static (UserDemographics[] Users, Taste[] Tastes) BuildUsers(SyntheticDatasetSize size, Catalog catalog, Random random)
    {
        // Each demographic segment (gender x age group) has its own affinity over categories: taste follows demographics.
        var genders = new string?[] { "f", "m" };
        var segmentCount = genders.Length * AgeGroups.All.Count;
        var segmentAffinity = new double[segmentCount][];
        for (var s = 0; s < segmentCount; s++)
        {
            segmentAffinity[s] = Cumulative(Enumerable.Range(0, catalog.CategoryCount).Select(_ => Math.Exp(1.3 * Gaussian(random))));
        }
        var ageCumulative = Cumulative([0.05, 0.17, 0.26, 0.22, 0.15, 0.10, 0.05]);
        var regionCumulative = Cumulative(Enumerable.Range(1, RegionCount).Select(r => 1.0 / Math.Pow(r, 0.6)));

        var users = new UserDemographics[size.Users];
        var tastes = new Taste[size.Users];
        for (var u = 0; u < size.Users; u++)
        {
            var genderIndex = random.Next(genders.Length);
            var ageIndex = Sample(ageCumulative, random);
            var region = 1 + Sample(regionCumulative, random);
            var segment = genderIndex * AgeGroups.All.Count + ageIndex;
            // A few users keep some demographics private; their taste still follows the hidden segment.
            var gender = random.NextDouble() < 0.04 ? null : genders[genderIndex];
            var ageGroup = random.NextDouble() < 0.04 ? null : AgeGroups.All[ageIndex];
            int? geo = random.NextDouble() < 0.03 ? null : region;
            users[u] = new UserDemographics(u + 1, gender, ageGroup, geo);

            var primary = Sample(segmentAffinity[segment], random);
            var secondary = Sample(segmentAffinity[segment], random);
            var chosen = new List<int>(4);
            AddNiche(chosen, catalog, primary, random);
            AddNiche(chosen, catalog, primary, random);
            AddNiche(chosen, catalog, secondary, random);
            if (random.NextDouble() < 0.3)
            {
                AddNiche(chosen, catalog, random.Next(catalog.CategoryCount), random);
            }
            var nicheWeights = chosen.Select((_, k) => k == 0 ? 2.0 : 1.0);
            tastes[u] = new Taste([.. chosen], Cumulative(nicheWeights), Math.Exp(0.4 * Gaussian(random)), region);
        }
        return (users, tastes);
    }

    private static void AddNiche(List<int> chosen, Catalog catalog, int category, Random random)
    {
        var candidates = catalog.NichesByCategory[category];
        if (candidates.Length == 0)
        {
            return;
        }
        var niche = candidates[Sample(catalog.NicheCumulativeByCategory[category], random)];
        if (!chosen.Contains(niche))
        {
            chosen.Add(niche);
        }
    }

    private static Interaction[] BuildInteractions(
        SyntheticDatasetOptions options, Catalog catalog, Taste[] tastes, DateTime start, DateTime end)
    {
        // Activity per user is heavy-tailed (log-normal), scaled to the requested total.
        var random = new Random(unchecked(options.Seed * 31 + 7));
        var userCount = tastes.Length;
        var activity = new double[userCount];
        var sum = 0.0;
        for (var u = 0; u < userCount; u++)
        {
            activity[u] = Math.Exp(0.9 * Gaussian(random));
            sum += activity[u];
        }
        const int minimumPerUser = 3;
        var target = Math.Max(options.Size.Interactions, userCount * minimumPerUser);
        var counts = new int[userCount];
        var offsets = new int[userCount + 1];
        var spare = target - userCount * minimumPerUser;
        var assigned = 0;
        for (var u = 0; u < userCount; u++)
        {
            counts[u] = minimumPerUser + (int)(spare * activity[u] / sum);
            assigned += counts[u];
        }
        // Rounding down left a few interactions over: hand them to the first users so the total is exact.
        for (var u = 0; assigned < target; u = (u + 1) % userCount, assigned++)
        {
            counts[u]++;
        }
        for (var u = 0; u < userCount; u++)
        {
            offsets[u + 1] = offsets[u] + counts[u];
        }
        var interactions = new Interaction[offsets[userCount]];

        Parallel.For(0, userCount, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, u =>
        {
            var userRandom = new Random(MixSeed(options.Seed, u));
            var slice = interactions.AsSpan(offsets[u], counts[u]);
            FillUser(slice, u + 1, tastes[u], catalog, userRandom, start, end);
            slice.Sort(static (a, b) => a.OccurredAt.CompareTo(b.OccurredAt));
        });
        return interactions;
    }

    private static void FillUser(Span<Interaction> slice, long userId, Taste taste, Catalog catalog, Random random, DateTime start, DateTime end)
    {
        var history = end - start;
        var written = 0;
        while (written < slice.Length)
        {
            var item = PickItem(taste, catalog, random);
            var created = catalog.Items[item].CreatedAt;
            // Recent days are a little busier than old ones.
            var at = start + history * Math.Pow(random.NextDouble(), 0.8);
            if (at < created)
            {
                at = created + (end - created) * random.NextDouble();
            }
            var itemId = item + 1L;

            if (random.NextDouble() < 0.12)
            {
                Emit(slice, ref written, new Interaction(userId, itemId, InteractionType.View, null, Truncate(at, end)));
                continue;
            }
            Emit(slice, ref written, new Interaction(userId, itemId, InteractionType.Click, null, Truncate(at, end)));
            if (random.NextDouble() < 0.62)
            {
                at = at.AddSeconds(5 + random.Next(600));
                Emit(slice, ref written, new Interaction(userId, itemId, InteractionType.Like, null, Truncate(at, end)));
            }
            if (random.NextDouble() < 0.06)
            {
                at = at.AddSeconds(5 + random.Next(600));
                Emit(slice, ref written, new Interaction(userId, itemId, InteractionType.WishlistAdd, null, Truncate(at, end)));
            }
            if (random.NextDouble() < 0.08)
            {
                at = at.AddSeconds(5 + random.Next(600));
                Emit(slice, ref written, new Interaction(userId, itemId, InteractionType.AddToCart, null, Truncate(at, end)));
                if (random.NextDouble() < 0.5)
                {
                    at = at.AddSeconds(30 + random.Next(1800));
                    Emit(slice, ref written, new Interaction(userId, itemId, InteractionType.Purchase, null, Truncate(at, end)));
                }
            }
        }
    }

    private static void Emit(Span<Interaction> slice, ref int written, Interaction interaction)
    {
        if (written < slice.Length)
        {
            slice[written++] = interaction;
        }
    }

    private static int PickItem(Taste taste, Catalog catalog, Random random)
    {
        var roll = random.NextDouble();
        if (roll < ShareFromNiches)
        {
            var niche = catalog.Niches[taste.Niches[Sample(taste.NicheCumulative, random)]];
            // Prefer items within the user's price tolerance: a few tries, then take what came.
            var item = niche.Items[Sample(niche.Cumulative, random)];
            for (var attempt = 0; attempt < 3; attempt++)
            {
                var ratio = (double)catalog.Items[item].Price / (niche.PriceCenter * taste.PriceTolerance);
                if (ratio <= 1.15 || random.NextDouble() < Math.Pow(1 / ratio, 2))
                {
                    break;
                }
                item = niche.Items[Sample(niche.Cumulative, random)];
            }
            return item;
        }
        if (roll < ShareFromNiches + ShareFromRegion && catalog.ItemsByRegion[taste.Region].Length > 0)
        {
            return catalog.ItemsByRegion[taste.Region][Sample(catalog.RegionCumulative[taste.Region], random)];
        }
        return Sample(catalog.GlobalCumulative, random);
    }

    private static DateTime Truncate(DateTime at, DateTime end) =>
        TruncateToMicroseconds(at < end ? at : end.AddSeconds(-1));

    /// <summary>PostgreSQL keeps microseconds; truncating here makes a load round-trip exact.</summary>
    private static DateTime TruncateToMicroseconds(DateTime at) =>
        new(at.Ticks - at.Ticks % 10, DateTimeKind.Utc);

    private static double[] Cumulative(IEnumerable<double> weights)
    {
        var result = new List<double>();
        var total = 0.0;
        foreach (var weight in weights)
        {
            total += weight;
            result.Add(total);
        }
        return [.. result];
    }

    /// <summary>Index drawn with probability proportional to its weight (binary search over cumulative weights).</summary>
    private static int Sample(double[] cumulative, Random random)
    {
        var target = random.NextDouble() * cumulative[^1];
        var index = Array.BinarySearch(cumulative, target);
        index = index < 0 ? ~index : index + 1;
        return Math.Min(index, cumulative.Length - 1);
    }

    private static double Gaussian(Random random)
    {
        // Box-Muller; 1 - NextDouble() avoids log(0).
        var u1 = 1.0 - random.NextDouble();
        var u2 = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    private static int MixSeed(int seed, int stream)
    {
        // SplitMix64 finalizer: independent, well-spread seeds per user.
        var z = (ulong)(uint)seed << 32 | (uint)stream;
        z += 0x9E3779B97F4A7C15;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
        return (int)(z ^ (z >> 31));
    }

    private static string Capitalize(string word) => char.ToUpperInvariant(word[0]) + word[1..];
}
