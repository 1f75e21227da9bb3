using RecApp.Engine.Model;
using RecApp.Engine.Embeddings;
using RecApp.Data;
using RecApp.Data.Models;
using RecApp.Api.Model;
using RecApp.Api.Caching;

namespace RecApp.Api.Stats;

/// <summary><c>GET /stats</c> (the service contract): data, model, jobs, cache and the effective configuration.</summary>
public sealed record StatsResponse(
    DataStats? Data, string? DatabaseError, ModelStats Model, JobRunStats[] Jobs, CacheStats Cache, ConfigurationStats Configuration);

/// <summary>
/// The service contract's statistics (items, likes, clicks, users) and the rest; counts are the planner's estimates when
/// <c>interactions_estimated</c> (recdb's large tables). <c>source</c> says which database they were counted in: <c>recdb</c>,
/// or <c>maindb</c> when a source database is configured (exact counts through its mapping); then
/// <c>api_interactions</c> is the number of events posted to RecApp's own API (kept in recdb), which builds add.
/// </summary>
public sealed record DataStats(
    long Items, long ActiveItems, long Users, long Interactions, long Likes, long Clicks, bool InteractionsEstimated,
    string Source = "recdb", long? ApiInteractions = null);

public sealed record ModelPartStats(string Part, long Version, DateTime SwitchedAt);

/// <summary>
/// What this instance serves (in-process snapshot: its version, catalog and what the build chose on its validation
/// split, with the validation score) and what the database says is current.
/// </summary>
public sealed record ModelStats(long ServingVersion, int CatalogItems, ModelTuning Tuning, ModelPartStats[] Parts);

/// <summary>A job's last run; <c>details</c> is what its model version recorded (e.g. the similarities job's tuning).</summary>
public sealed record JobRunStats(
    string Job, string Status, DateTime StartedAt, DateTime? FinishedAt, long? DurationMs, long? RowCount, long? ModelVersion,
    string? Error, System.Text.Json.JsonElement? Details);

public sealed record HitStats(long Hits, long Misses, double HitRate);

/// <summary>
/// Hits and misses as the endpoints saw them, per kind of list; <c>fallbacks</c>: personalized answers that degraded to
/// the popular list (the database could not be read), counted apart from hits and misses; <c>tiers</c> is the cache's
/// own view (L1, L2).
/// </summary>
public sealed record CacheStats(HitStats Popular, HitStats Personalized, HitStats Similar, HitStats Total, CacheTierStats Tiers, long Fallbacks);

public sealed record ConfigurationStats(
    int CacheTtlPopular, int CacheTtlPersonalized, int CacheTtlUserProfile, int DefaultPageSize, int MaxPageSize,
    int MaxSimilarUsers, int MaxBatchUsers, int WarmUsers, bool RateLimitingEnabled, int RateLimitPermitsPerSecond,
    int RateLimitBurst, bool AdminEnabled);
