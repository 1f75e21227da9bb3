namespace RecApp.Api.Recommendations;

// Wire contracts of seed 002, snake_case on the wire (ApiJsonContext). Request fields are nullable so that a
// missing field is reported by name instead of failing deserialization as a whole.

public sealed record UserParams(string? Gender = null, string? Age = null, string? Category = null, int? GeoId = null);

public sealed record PriceFilters(decimal? PriceFrom = null, decimal? PriceTo = null, string? Category = null);

public sealed record PageRequest(int? Page = null, int? Limit = null);

/// <summary><c>POST /popular</c>.</summary>
public sealed record PopularRequest(UserParams? UserParams = null, PriceFilters? Filters = null, PageRequest? Pagination = null);

/// <summary><c>POST /personalized</c>.</summary>
public sealed record PersonalizedRequest(long? UserId = null, int? GeoId = null, PriceFilters? Filters = null, PageRequest? Pagination = null);

/// <summary><c>POST /personalized/batch</c>: one first page per user.</summary>
public sealed record BatchRequest(long[]? UserIds = null, int? Limit = null);

public sealed record Pagination(int Page, int Limit, int TotalPages, bool HasNext, bool HasPrevious);

/// <summary>Every recommendation answer; <c>experiment</c> is <c>{experiment}_{variant}</c> when served in one, else null.</summary>
public sealed record RecommendationResponse(
    long[] Items, Pagination Pagination, double ComputationTimeMs, string AlgorithmUsed, bool CacheHit, long ModelVersion,
    string? Experiment = null);

public sealed record BatchEntry(long UserId, long[] Items, string AlgorithmUsed, bool CacheHit, long ModelVersion);

public sealed record BatchResponse(BatchEntry[] Results, double ComputationTimeMs);
