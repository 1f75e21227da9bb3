using System.Text.Json.Serialization;

namespace RecApp.Api.Console;

/// <summary><c>GET /admin/console/jobs</c>: the most recent job runs, newest first (the overview's bar chart).</summary>
public sealed record JobHistoryResponse(JobRunRow[] Runs);

public sealed record JobRunRow(
    long Id, string Job, string Status, DateTime StartedAt, DateTime? FinishedAt, long? DurationMs, long? RowCount,
    long? ModelVersion, string? Error);

/// <summary>
/// <c>GET /admin/console/cache-history</c>: this instance's cache counters sampled every
/// <see cref="CacheHistory.SampleInterval"/>, oldest first. Rates are over the interval since the previous sample
/// (null when the cache was not read in it): where reads were answered, L1, L2 or neither.
/// </summary>
public sealed record CacheHistoryResponse(int IntervalSeconds, CacheSample[] Samples);

public sealed record CacheSample(
    DateTimeOffset At, long L1Hits, long L2Hits, long Misses, long Reads, double? L1HitRate, double? L2HitRate, double? MissRate);

/// <summary><c>GET /admin/console/users/{id}</c>: who the user is to the engine, and what they are served now.</summary>
public sealed record UserExplorerResponse(
    long UserId, bool Known, string? Gender, string? AgeGroup, int? GeoId,
    long InteractionCount, int DistinctItems, string Tier, string TierRule,
    HistoryRow[] History, string? Experiment, UserRecommendations Recommendations, VariantRecommendations[] Variants);

/// <summary>What one variant of the running experiment would give the user (computed for the operator, not cached, not recorded).</summary>
public sealed record VariantRecommendations(string Variant, string Label, bool UsersOwn, string Algorithm, ScoredItem[] Items);

public sealed record HistoryRow(long ItemId, string? Title, string? Category, string Type, float? Value, DateTime OccurredAt);

/// <summary>The head of the user's ranked list, as the cache serves it (scores are the engine's, best first).</summary>
public sealed record UserRecommendations(string Algorithm, long ModelVersion, bool CacheHit, int Length, ScoredItem[] Items);

/// <summary>An item of a list; <c>sources</c>: each source's weighted share of the score (user lists only).</summary>
public sealed record ScoredItem(
    int Rank, long ItemId, string? Title, string? Category, decimal? Price, float Score,
    RecApp.Engine.Scoring.SourceContribution[]? Sources = null);

/// <summary><c>GET /admin/console/items/{id}</c>: an item as the in-process catalog knows it, its neighbors and popularity.</summary>
public sealed record ItemExplorerResponse(
    long ItemId, string Title, string Category, string[] Tags, decimal Price, int? GeoId, bool Active, DateTime CreatedAt,
    int? PopularityRank, int? CategoryPopularityRank, int PopularListLength, long? Interactions, long? Users,
    ScoredItem[] Similar);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, NumberHandling = JsonNumberHandling.Strict)]
[JsonSerializable(typeof(JobHistoryResponse))]
[JsonSerializable(typeof(CacheHistoryResponse))]
[JsonSerializable(typeof(UserExplorerResponse))]
[JsonSerializable(typeof(ItemExplorerResponse))]
internal sealed partial class ConsoleJsonContext : JsonSerializerContext;
