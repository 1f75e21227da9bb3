using RecApp.Engine.Domain;
using RecApp.Engine.Datasets;

namespace RecApp.Engine.Tests;

public sealed class SyntheticDatasetGeneratorTests
{
    private static readonly SyntheticDatasetOptions s_tiny = new(SyntheticDatasetSize.Tiny, Seed: 7);

    /// <summary>Items hold arrays, which records compare by reference: compare a text rendering instead.</summary>
    private static string Render(CatalogItem item) =>
        $"{item.Id}|{item.Title}|{item.Category}|{string.Join(',', item.Tags)}|{item.Price}|{item.GeoId}|{item.Active}|{item.CreatedAt:O}";

    [Fact]
    public void The_same_seed_gives_the_same_data()
    {
        var first = SyntheticDatasetGenerator.Generate(s_tiny);
        var second = SyntheticDatasetGenerator.Generate(s_tiny);

        Assert.Equal(first.Items.Select(Render), second.Items.Select(Render));
        Assert.Equal(first.Users, second.Users);
        Assert.Equal(first.Interactions, second.Interactions);
    }

    [Fact]
    public void A_different_seed_gives_different_data()
    {
        var first = SyntheticDatasetGenerator.Generate(s_tiny);
        var other = SyntheticDatasetGenerator.Generate(s_tiny with { Seed = 8 });

        Assert.NotEqual(first.Items.Select(Render), other.Items.Select(Render));
        Assert.NotEqual(first.Interactions, other.Interactions);
    }

    [Fact]
    public void Sizes_ids_and_times_are_as_requested()
    {
        var end = new DateTime(2025, 3, 1, 0, 0, 0, DateTimeKind.Utc);
        var dataset = SyntheticDatasetGenerator.Generate(s_tiny with { ReferenceEnd = end, Days = 90 });
        var size = SyntheticDatasetSize.Tiny;

        Assert.Equal(size.Items, dataset.Items.Count);
        Assert.Equal(size.Users, dataset.Users.Count);
        Assert.Equal(size.Interactions, dataset.Interactions.Length);
        Assert.Equal(Enumerable.Range(1, size.Items).Select(i => (long)i), dataset.Items.Select(i => i.Id));
        Assert.All(dataset.Items, item => Assert.True(item.Price > 0 && item.Tags.Length >= 2 && item.Category.Length > 0));
        Assert.All(dataset.Interactions, interaction =>
        {
            Assert.InRange(interaction.ItemId, 1, size.Items);
            Assert.InRange(interaction.UserId, 1, size.Users);
            Assert.InRange(interaction.OccurredAt, end.AddDays(-90), end);
            Assert.True(interaction.OccurredAt >= dataset.Items[(int)interaction.ItemId - 1].CreatedAt, "an item is used before it exists");
        });
        var types = dataset.Interactions.GroupBy(i => i.Type).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(6, types.Count); // every type but rating
        Assert.True(types[InteractionType.Click] > types[InteractionType.Like] && types[InteractionType.Like] > types[InteractionType.Purchase]);
    }

    [Fact]
    public void Users_have_concentrated_tastes_that_follow_their_demographics()
    {
        var dataset = SyntheticDatasetGenerator.Generate(s_tiny with { Seed = 3 });
        var categoryOf = dataset.Items.ToDictionary(i => i.Id, i => i.Category);
        var byUser = dataset.Interactions.GroupBy(i => i.UserId).Where(g => g.Count() >= 20).ToArray();

        // Share of a user's interactions in their own two favourite categories, against the two biggest overall.
        var ownShare = byUser.Average(g =>
            g.GroupBy(i => categoryOf[i.ItemId]).Select(c => c.Count()).OrderDescending().Take(2).Sum() / (double)g.Count());
        var globalTop = dataset.Interactions.GroupBy(i => categoryOf[i.ItemId]).OrderByDescending(c => c.Count()).Take(2).Sum(c => c.Count());
        var globalShare = globalTop / (double)dataset.Interactions.Length;
        Assert.True(ownShare > 0.6, $"users spread their interactions too evenly ({ownShare:P0} in their top two categories)");
        Assert.True(ownShare > globalShare + 0.25, $"personal taste ({ownShare:P0}) barely beats global popularity ({globalShare:P0})");

        // Demographic segments differ in what they like most.
        var usersById = dataset.Users.ToDictionary(u => u.Id);
        var favouriteBySegment = dataset.Interactions
            .Where(i => usersById[i.UserId] is { Gender: not null, AgeGroup: not null })
            .GroupBy(i => (usersById[i.UserId].Gender, usersById[i.UserId].AgeGroup))
            .Where(g => g.Count() > 200)
            .Select(g => g.GroupBy(i => categoryOf[i.ItemId]).MaxBy(c => c.Count())!.Key)
            .Distinct()
            .Count();
        Assert.True(favouriteBySegment >= 2, "every demographic segment has the same favourite category");
    }

    [Fact]
    public void The_seeds_example_price_range_finds_electronics()
    {
        // The service contract's /popular example asks for electronics priced 500-2,000.
        var items = SyntheticDatasetGenerator.Generate(new SyntheticDatasetOptions(SyntheticDatasetSize.S, Seed: 42)).Items;

        var inRange = items.Count(i => i.Category == "electronics" && i.Price is >= 500 and <= 2000);

        Assert.True(inRange >= 50, $"only {inRange} electronics items priced 500-2,000");
        Assert.All(items, i => Assert.True(i.Price > 0));
    }
}
