namespace RecApp.Engine.Domain;

/// <summary>A catalog item as the model and the API see it.</summary>
public sealed record CatalogItem(
    long Id, string Title, string Category, string[] Tags, decimal Price, int? GeoId, bool Active, DateTime CreatedAt);

/// <summary>A user's demographics; any field may be unknown.</summary>
public sealed record UserDemographics(long Id, string? Gender, string? AgeGroup, int? GeoId);

/// <summary>One event. A struct: datasets hold millions of them.</summary>
public readonly record struct Interaction(long UserId, long ItemId, InteractionType Type, float? Value, DateTime OccurredAt);

/// <summary>
/// Everything the model is built from, in memory: produced by the generator and importers, bulk-loaded into
/// PostgreSQL, bulk-read back by the Refresher, and split into train/test by the evaluator.
/// </summary>
public sealed class Dataset(IReadOnlyList<CatalogItem> items, IReadOnlyList<UserDemographics> users, Interaction[] interactions)
{
    public IReadOnlyList<CatalogItem> Items { get; } = items;
    public IReadOnlyList<UserDemographics> Users { get; } = users;
    public Interaction[] Interactions { get; } = interactions;
}
