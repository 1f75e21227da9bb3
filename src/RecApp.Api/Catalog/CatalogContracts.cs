namespace RecApp.Api.Catalog;

/// <summary><c>PUT /items/{id}</c>: the whole item (create or replace).</summary>
public sealed record ItemUpsert(
    string? Title = null, string? Category = null, string[]? Tags = null, decimal? Price = null, int? GeoId = null, bool? Active = null);

public sealed record ItemResponse(
    long Id, string Title, string Category, string[] Tags, decimal Price, int? GeoId, bool Active, DateTime CreatedAt, DateTime UpdatedAt);

/// <summary><c>PUT /users/{id}</c>: demographics, each optional (unknown).</summary>
public sealed record UserUpsert(string? Gender = null, string? AgeGroup = null, int? GeoId = null);

public sealed record UserResponse(long Id, string? Gender, string? AgeGroup, int? GeoId, DateTime CreatedAt, DateTime UpdatedAt);
