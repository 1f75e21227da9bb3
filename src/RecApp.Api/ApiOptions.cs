using Microsoft.Extensions.Options;
using RecApp.Recommendations;

namespace RecApp.Api;

/// <summary>
/// Section <c>Api</c>: how the API serves lists. The seed's environment names (<c>CACHE_TTL_POPULAR</c>, <c>DEFAULT_PAGE_SIZE</c>,
/// ...) are accepted too, so the seed's deployment files keep working; the .NET key wins when both are set (as for
/// the engine's <c>MAX_SIMILAR_USERS</c>).
/// </summary>
public sealed class ApiOptions
{
    public const string Section = "Api";

    /// <summary>Popular and similar-item lists (seed: <c>CACHE_TTL_POPULAR</c>).</summary>
    public int PopularTtlSeconds { get; set; } = 900;

    /// <summary>Per-user lists (seed: <c>CACHE_TTL_PERSONALIZED</c>).</summary>
    public int PersonalizedTtlSeconds { get; set; } = 7200;

    /// <summary>Per-user profile data (seed: <c>CACHE_TTL_USER_PROFILE</c>); reported in /stats for the engine.</summary>
    public int UserProfileTtlSeconds { get; set; } = 14400;

    /// <summary>Page size when the request names none (seed: <c>DEFAULT_PAGE_SIZE</c>).</summary>
    public int DefaultPageSize { get; set; } = 20;

    /// <summary>Largest accepted <c>limit</c> (seed: <c>MAX_PAGE_SIZE</c>).</summary>
    public int MaxPageSize { get; set; } = 100;

    /// <summary>Most user ids in one <c>POST /personalized/batch</c>.</summary>
    public int MaxBatchUsers { get; set; } = 100;

    /// <summary>How many of the most active users get their lists computed when a new model version is announced.</summary>
    public int WarmUsers { get; set; } = 100;

    /// <summary>
    /// How often the warm-up looks at the in-memory model's version (no database read): a version the model found by
    /// its own poll of <c>model_current</c> (<c>Recommendations:SnapshotPollInterval</c>) without a Redis
    /// announcement gets its cache warmed within this delay; a failed warm-up is retried as often.
    /// </summary>
    public int ModelPollSeconds { get; set; } = 5;

    /// <summary>Accepted values of <c>user_params.gender</c>.</summary>
    public string[] Genders { get; set; } = ["f", "m"];

    /// <summary>Accepted values of <c>user_params.age</c>.</summary>
    public string[] AgeGroups { get; set; } = [.. RecApp.Recommendations.Ingest.AgeGroups.All];

    public TimeSpan PopularTtl => TimeSpan.FromSeconds(PopularTtlSeconds);
    public TimeSpan PersonalizedTtl => TimeSpan.FromSeconds(PersonalizedTtlSeconds);
}

/// <summary>Applies the seed's environment names where the <c>Api</c> section does not set the option.</summary>
internal sealed class SeedEnvironmentNames(IConfiguration configuration) : IConfigureOptions<ApiOptions>
{
    public void Configure(ApiOptions options)
    {
        Apply("CACHE_TTL_POPULAR", nameof(ApiOptions.PopularTtlSeconds), v => options.PopularTtlSeconds = v);
        Apply("CACHE_TTL_PERSONALIZED", nameof(ApiOptions.PersonalizedTtlSeconds), v => options.PersonalizedTtlSeconds = v);
        Apply("CACHE_TTL_USER_PROFILE", nameof(ApiOptions.UserProfileTtlSeconds), v => options.UserProfileTtlSeconds = v);
        Apply("DEFAULT_PAGE_SIZE", nameof(ApiOptions.DefaultPageSize), v => options.DefaultPageSize = v);
        Apply("MAX_PAGE_SIZE", nameof(ApiOptions.MaxPageSize), v => options.MaxPageSize = v);
    }

    private void Apply(string name, string property, Action<int> set)
    {
        if (SeedEnvironmentSetting.TryReadPositiveInteger(configuration, name, $"{ApiOptions.Section}:{property}", typeof(ApiOptions), out var value))
        {
            set(value);
        }
    }
}

internal sealed class ApiOptionsValidation : IValidateOptions<ApiOptions>
{
    public ValidateOptionsResult Validate(string? name, ApiOptions options)
    {
        var failures = new List<string>();
        if (options.MaxPageSize < 1)
        {
            failures.Add("Api:MaxPageSize must be at least 1.");
        }
        if (options.DefaultPageSize < 1 || options.DefaultPageSize > options.MaxPageSize)
        {
            failures.Add("Api:DefaultPageSize must be between 1 and MaxPageSize.");
        }
        if (options.PopularTtlSeconds < 1 || options.PersonalizedTtlSeconds < 1 || options.UserProfileTtlSeconds < 1)
        {
            failures.Add("Cache TTLs must be at least one second.");
        }
        if (options.MaxBatchUsers < 1 || options.WarmUsers < 0 || options.ModelPollSeconds < 1)
        {
            failures.Add("Api:MaxBatchUsers and ModelPollSeconds must be positive, WarmUsers not negative.");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
