using System.ComponentModel.DataAnnotations;

namespace RecApp.Api;

/// <summary>
/// Section <c>Api</c>: how the API serves lists. The service contract's environment names (<c>CACHE_TTL_POPULAR</c>,
/// <c>DEFAULT_PAGE_SIZE</c>, ...) reach these keys through <see cref="RecApp.ServiceDefaults.ContractEnvironmentNames"/>.
/// Validated at start-up: a bad value stops the API, naming the setting.
/// </summary>
public sealed class ApiOptions : IValidatableObject
{
    public const string SectionName = "Api";

    /// <summary>Popular and similar-item lists (seed: <c>CACHE_TTL_POPULAR</c>, seconds).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "365.00:00:00", ErrorMessage = "Api:PopularTtl (CACHE_TTL_POPULAR) must be between 1 s and 365 days.")]
    public TimeSpan PopularTtl { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Per-user lists (seed: <c>CACHE_TTL_PERSONALIZED</c>, seconds).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "365.00:00:00", ErrorMessage = "Api:PersonalizedTtl (CACHE_TTL_PERSONALIZED) must be between 1 s and 365 days.")]
    public TimeSpan PersonalizedTtl { get; set; } = TimeSpan.FromHours(2);

    /// <summary>Per-user profile data (seed: <c>CACHE_TTL_USER_PROFILE</c>, seconds); reported in /stats for the engine.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "365.00:00:00", ErrorMessage = "Api:UserProfileTtl (CACHE_TTL_USER_PROFILE) must be between 1 s and 365 days.")]
    public TimeSpan UserProfileTtl { get; set; } = TimeSpan.FromHours(4);

    /// <summary>Page size when the request names none (seed: <c>DEFAULT_PAGE_SIZE</c>).</summary>
    [Range(1, 10_000, ErrorMessage = "Api:DefaultPageSize (DEFAULT_PAGE_SIZE) must be between 1 and 10000.")]
    public int DefaultPageSize { get; set; } = 20;

    /// <summary>Largest accepted <c>limit</c> (seed: <c>MAX_PAGE_SIZE</c>).</summary>
    [Range(1, 10_000, ErrorMessage = "Api:MaxPageSize (MAX_PAGE_SIZE) must be between 1 and 10000.")]
    public int MaxPageSize { get; set; } = 100;

    /// <summary>Most user ids in one <c>POST /personalized/batch</c>.</summary>
    [Range(1, 10_000, ErrorMessage = "Api:MaxBatchUsers must be between 1 and 10000.")]
    public int MaxBatchUsers { get; set; } = 100;

    /// <summary>How many of the most active users get their lists computed when a new model version is announced.</summary>
    [Range(0, 100_000, ErrorMessage = "Api:WarmUsers must be between 0 and 100000.")]
    public int WarmUsers { get; set; } = 100;

    /// <summary>
    /// How often the warm-up looks at the in-memory model's version (no database read): a version the model found by
    /// its own poll of <c>model_current</c> (<c>Recommendations:Store:SnapshotPollInterval</c>) without a Redis
    /// announcement gets its cache warmed within this delay; a failed warm-up is retried as often.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "1.00:00:00", ErrorMessage = "Api:ModelPollInterval must be between 10 ms and 1 day.")]
    public TimeSpan ModelPollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Most engine runs (cache misses: history read plus scoring) at once; the rest wait their turn in order. Scoring
    /// is CPU work, so more runs than cores only make each slower, and a run queued behind them would start its
    /// bounded database read late and fall back to the popular list. 0: twice the processor count.
    /// </summary>
    [Range(0, 1024, ErrorMessage = "Api:MaxConcurrentEngineRuns must be between 0 (twice the processor count) and 1024.")]
    public int MaxConcurrentEngineRuns { get; set; }

    /// <summary>Accepted values of <c>user_params.gender</c>.</summary>
    [MinLength(1, ErrorMessage = "Api:Genders must name at least one value.")]
    public string[] Genders { get; set; } = ["f", "m"];

    /// <summary>Accepted values of <c>user_params.age</c>.</summary>
    [MinLength(1, ErrorMessage = "Api:AgeGroups must name at least one value.")]
    public string[] AgeGroups { get; set; } = [.. RecApp.Engine.Domain.AgeGroups.All];

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (DefaultPageSize > MaxPageSize)
        {
            yield return new ValidationResult(
                $"Api:DefaultPageSize (DEFAULT_PAGE_SIZE, {DefaultPageSize}) must not exceed Api:MaxPageSize (MAX_PAGE_SIZE, {MaxPageSize}).",
                [nameof(DefaultPageSize)]);
        }
    }
}
