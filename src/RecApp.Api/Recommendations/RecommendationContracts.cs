using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Mvc;
using RecApp.Api.Validation;
using RecApp.Engine.Domain;

namespace RecApp.Api.Recommendations;

// Wire contracts of the service contract, snake_case on the wire (ApiJsonContext). Request fields are nullable so that a
// missing field is reported by name (validation) instead of failing deserialization as a whole.

public sealed record UserParams(
    string? Gender = null,
    string? Age = null,
    [property: NotBlank, StringLength(100, ErrorMessage = "At most 100 characters."), StorableText] string? Category = null,
    [property: PositiveId] int? GeoId = null) : IValidatableObject
{
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        var options = validationContext.ApiOptions();
        return new[]
        {
            ValidationServices.CheckKnown(Gender, options.Genders, nameof(Gender)),
            ValidationServices.CheckKnown(Age, options.AgeGroups, nameof(Age)),
        }.OfType<ValidationResult>();
    }

    public Demographics ToDemographics(ApiOptions options) => new(
        ValidationServices.Canonical(Gender, options.Genders), ValidationServices.Canonical(Age, options.AgeGroups), GeoId, Category?.Trim());
}

public sealed record PriceFilters(
    [property: Range(0, double.MaxValue, ErrorMessage = "Must be 0 or more.")] decimal? PriceFrom = null,
    [property: Range(0, double.MaxValue, ErrorMessage = "Must be 0 or more.")] decimal? PriceTo = null,
    [property: NotBlank, StringLength(100, ErrorMessage = "At most 100 characters."), StorableText] string? Category = null)
    : IValidatableObject
{
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext) => PriceRange.Check(PriceFrom, PriceTo);

    public RecommendationFilters ToFilters(int? geoId) => PriceRange.Filters(PriceFrom, PriceTo, Category, geoId);
}

public sealed record PageRequest(int? Page = null, int? Limit = null) : IValidatableObject
{
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext) =>
        Paging.Check(Page, Limit, validationContext.ApiOptions(), nameof(Page), nameof(Limit));
}

/// <summary><c>POST /popular</c>.</summary>
public sealed record PopularRequest(UserParams? UserParams = null, PriceFilters? Filters = null, PageRequest? Pagination = null);

/// <summary><c>POST /personalized</c>.</summary>
public sealed record PersonalizedRequest(
    [property: Required(ErrorMessage = "Required."), PositiveId] long? UserId = null,
    [property: PositiveId] int? GeoId = null,
    PriceFilters? Filters = null,
    PageRequest? Pagination = null);

/// <summary><c>POST /personalized/batch</c>: one first page per user.</summary>
public sealed record BatchRequest(long[]? UserIds = null, int? Limit = null) : IValidatableObject
{
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        var options = validationContext.ApiOptions();
        if (UserIds is null || UserIds.Length == 0)
        {
            yield return new ValidationResult($"Required: between 1 and {options.MaxBatchUsers} user ids.", [nameof(UserIds)]);
        }
        else if (UserIds.Length > options.MaxBatchUsers)
        {
            yield return new ValidationResult($"At most {options.MaxBatchUsers} user ids per request, got {UserIds.Length}.", [nameof(UserIds)]);
        }
        else
        {
            for (var i = 0; i < UserIds.Length; i++)
            {
                if (UserIds[i] <= 0)
                {
                    yield return new ValidationResult("Must be a positive integer id.", [$"{nameof(UserIds)}[{i}]"]);
                }
            }
        }
        foreach (var result in Paging.Check(1, Limit, options, "", nameof(Limit)))
        {
            yield return result;
        }
    }
}

/// <summary><c>GET /users/{user_id}/recommendations</c>: the query form of <see cref="PersonalizedRequest"/>.</summary>
public sealed class UserRecommendationsQuery : IValidatableObject
{
    [FromRoute(Name = "user_id"), PositiveId]
    public long UserId { get; init; }

    [FromQuery(Name = "price_from"), Range(0, double.MaxValue, ErrorMessage = "Must be 0 or more.")]
    public decimal? PriceFrom { get; init; }

    [FromQuery(Name = "price_to"), Range(0, double.MaxValue, ErrorMessage = "Must be 0 or more.")]
    public decimal? PriceTo { get; init; }

    [FromQuery(Name = "category"), NotBlank, StringLength(100, ErrorMessage = "At most 100 characters."), StorableText]
    public string? Category { get; init; }

    [FromQuery(Name = "geo_id"), PositiveId]
    public int? GeoId { get; init; }

    [FromQuery(Name = "page")]
    public int? Page { get; init; }

    [FromQuery(Name = "limit")]
    public int? Limit { get; init; }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext) =>
        PriceRange.Check(PriceFrom, PriceTo).Concat(
            Paging.Check(Page, Limit, validationContext.ApiOptions(), nameof(Page), nameof(Limit)));
}

/// <summary><c>GET /items/{item_id}/similar</c>.</summary>
public sealed class SimilarItemsQuery : IValidatableObject
{
    [FromRoute(Name = "item_id"), PositiveId]
    public long ItemId { get; init; }

    [FromQuery(Name = "page")]
    public int? Page { get; init; }

    [FromQuery(Name = "limit")]
    public int? Limit { get; init; }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext) =>
        Paging.Check(Page, Limit, validationContext.ApiOptions(), nameof(Page), nameof(Limit));
}

/// <summary>The price-range rule shared by the body and query forms.</summary>
internal static class PriceRange
{
    public static IEnumerable<ValidationResult> Check(decimal? from, decimal? to)
    {
        if (from > to)
        {
            yield return new ValidationResult("Must not exceed price_to.", [nameof(PriceFilters.PriceFrom)]);
        }
    }

    public static RecommendationFilters Filters(decimal? from, decimal? to, string? category, int? geoId)
    {
        var filters = new RecommendationFilters(from, to, category?.Trim(), geoId);
        return filters == RecommendationFilters.None ? RecommendationFilters.None : filters;
    }
}

public sealed record Pagination(int Page, int Limit, int TotalPages, bool HasNext, bool HasPrevious);

/// <summary>
/// Every recommendation answer; <c>experiment</c> is <c>{experiment}_{variant}</c> when served in one, else null;
/// <c>degraded</c> is null for the list asked for, else why another was served (<see cref="DegradedReasons"/>).
/// </summary>
public sealed record RecommendationResponse(
    long[] Items, Pagination Pagination, double ComputationTimeMs, string AlgorithmUsed, bool CacheHit, long ModelVersion,
    string? Experiment = null, string? Degraded = null);

public sealed record BatchEntry(long UserId, long[] Items, string AlgorithmUsed, bool CacheHit, long ModelVersion, string? Degraded = null);

public sealed record BatchResponse(BatchEntry[] Results, double ComputationTimeMs);
