namespace RecApp.Api.Catalog;

/// <summary><c>PUT /items/{id}</c>: the whole item (create or replace).</summary>
public sealed record ItemUpsert(
    string? Title = null, string? Category = null, string[]? Tags = null, decimal? Price = null, int? GeoId = null, bool? Active = null);

public sealed record ItemResponse(
    long Id, string Title, string Category, string[] Tags, decimal Price, int? GeoId, bool Active, DateTime CreatedAt, DateTime UpdatedAt);

/// <summary>
/// <c>PUT /users/{id}</c>: demographics, each optional (unknown). <c>age</c> as in <c>/popular</c>'s
/// <c>user_params.age</c>; <c>age_group</c> (the column's name) is accepted as an alias.
/// </summary>
public sealed record UserUpsert(string? Gender = null, string? Age = null, string? AgeGroup = null, int? GeoId = null);

public sealed record UserResponse(long Id, string? Gender, string? AgeGroup, int? GeoId, DateTime CreatedAt, DateTime UpdatedAt);
