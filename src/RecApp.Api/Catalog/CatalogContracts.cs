using System.ComponentModel.DataAnnotations;
using RecApp.Api.Validation;

namespace RecApp.Api.Catalog;

/// <summary><c>PUT /items/{id}</c>: the whole item (create or replace).</summary>
public sealed record ItemUpsert(
    [property: Required(ErrorMessage = "Required."), NotBlank, StringLength(ItemUpsert.MaxTitleLength, ErrorMessage = "At most 500 characters."), StorableText]
    string? Title = null,
    [property: Required(ErrorMessage = "Required."), NotBlank, StringLength(ItemUpsert.MaxCategoryLength, ErrorMessage = "At most 100 characters."), StorableText]
    string? Category = null,
    [property: StorableText] string[]? Tags = null,
    [property: Required(ErrorMessage = "Required."), Range(typeof(decimal), "0", "9999999999.99", ParseLimitsInInvariantCulture = true, ErrorMessage = "Must be between 0 and 9999999999.99.")]
    decimal? Price = null,
    [property: PositiveId] int? GeoId = null,
    bool? Active = null) : IValidatableObject
{
    public const int MaxTitleLength = 500;
    public const int MaxCategoryLength = 100;
    public const int MaxTags = 50;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Tags is { } tags && (tags.Length > MaxTags || tags.Any(t => string.IsNullOrWhiteSpace(t) || t.Length > MaxCategoryLength)))
        {
            yield return new ValidationResult($"At most {MaxTags} non-empty tags of at most {MaxCategoryLength} characters.", [nameof(Tags)]);
        }
    }
}

public sealed record ItemResponse(
    long Id, string Title, string Category, string[] Tags, decimal Price, int? GeoId, bool Active, DateTime CreatedAt, DateTime UpdatedAt);

/// <summary>
/// <c>PUT /users/{id}</c>: demographics, each optional (unknown). <c>age</c> as in <c>/popular</c>'s
/// <c>user_params.age</c>; <c>age_group</c> (the column's name) is accepted as an alias.
/// </summary>
public sealed record UserUpsert(string? Gender = null, string? Age = null, string? AgeGroup = null, [property: PositiveId] int? GeoId = null)
    : IValidatableObject
{
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        var options = validationContext.ApiOptions();
        return new[]
        {
            ValidationServices.CheckKnown(Gender, options.Genders, nameof(Gender)),
            ValidationServices.CheckKnown(Age, options.AgeGroups, nameof(Age)),
            ValidationServices.CheckKnown(AgeGroup, options.AgeGroups, nameof(AgeGroup)),
            Age is not null && AgeGroup is not null && !string.Equals(Age, AgeGroup, StringComparison.OrdinalIgnoreCase)
                ? new ValidationResult("age and its alias age_group disagree; send one of them.", [nameof(Age)])
                : null,
        }.OfType<ValidationResult>();
    }
}

/// <summary>A user's demographics as stored; <c>age</c> is the field <c>PUT /users/{id}</c> takes.</summary>
public sealed record UserResponse(long Id, string? Gender, string? Age, int? GeoId, DateTime CreatedAt, DateTime UpdatedAt);
