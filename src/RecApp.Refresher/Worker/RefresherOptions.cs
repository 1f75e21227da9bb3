using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using RecApp.Recommendations;
using RecApp.Recommendations.Model;

namespace RecApp.Refresher.Worker;

/// <summary>
/// Settings of the Refresher worker, section <c>Refresher</c>. The seed's environment names
/// (<c>POPULAR_ITEMS_REFRESH_MINUTES</c>, <c>USER_PROFILES_REFRESH_MINUTES</c>, <c>SIMILARITIES_REFRESH_MINUTES</c>,
/// <c>CACHE_CLEANUP_HOURS</c>) are accepted too, so the seed's deployment files keep working; the .NET key wins when
/// both are set (the API's rule for its own seed names).
/// </summary>
public sealed class RefresherOptions
{
    public const string SectionName = "Refresher";

    /// <summary>Seed-style names, the option each one stands for, and how to set it.</summary>
    internal static readonly (string Name, string Property, Action<RefresherOptions, double> Apply)[] SeedEnvironmentNames =
    [
        ("POPULAR_ITEMS_REFRESH_MINUTES", nameof(PopularItemsRefreshMinutes), (o, v) => o.PopularItemsRefreshMinutes = v),
        ("USER_PROFILES_REFRESH_MINUTES", nameof(UserProfilesRefreshMinutes), (o, v) => o.UserProfilesRefreshMinutes = v),
        ("SIMILARITIES_REFRESH_MINUTES", nameof(SimilaritiesRefreshMinutes), (o, v) => o.SimilaritiesRefreshMinutes = v),
        ("CACHE_CLEANUP_HOURS", nameof(CleanupRefreshHours), (o, v) => o.CleanupRefreshHours = v),
    ];

    /// <summary>Interval of the <c>popular</c> job (popularity and trending).</summary>
    public double PopularItemsRefreshMinutes { get; set; } = 15;

    /// <summary>Interval of the <c>profiles</c> job.</summary>
    public double UserProfilesRefreshMinutes { get; set; } = 30;

    /// <summary>Interval of the <c>similarities</c> job (item and user neighbors).</summary>
    public double SimilaritiesRefreshMinutes { get; set; } = 60;

    /// <summary>
    /// Interval of the <c>cleanup</c> job (the seed's <c>CACHE_CLEANUP_HOURS</c>): it deletes retired and failed model
    /// versions, marks stale builds failed, and trims old job runs and handled refresh requests, all in PostgreSQL.
    /// The cache needs no sweep: its tag records expire by themselves in Redis after the cache's <c>TagRetention</c>.
    /// </summary>
    public double CleanupRefreshHours { get; set; } = 6;

    /// <summary>A failed job is retried after this long, or after its interval when that is shorter.</summary>
    public double FailedJobRetryMinutes { get; set; } = 5;

    /// <summary>When the catalog is empty at start-up, generate and load demo data before the first jobs.</summary>
    public bool SeedDemoDataWhenEmpty { get; set; }

    /// <summary>Size of the demo data: <c>tiny</c>, <c>S</c> or <c>L</c>.</summary>
    public string DemoDataSize { get; set; } = "S";

    /// <summary>Random seed of the demo data.</summary>
    public int DemoDataSeed { get; set; } = 42;

    /// <summary>Name recorded in <c>job_runs.host</c>.</summary>
    public string InstanceName { get; set; } = $"{Environment.MachineName}:{Environment.ProcessId}";

    /// <summary>How often the leader checks its lock connection, and how long a follower waits after a database error.</summary>
    public double LeaderCheckSeconds { get; set; } = 5;

    /// <summary>How often <c>refresh_requests</c> is read even without a NOTIFY (a missed notification is never lost).</summary>
    public double RequestPollSeconds { get; set; } = 30;

    /// <summary>
    /// The schedule interval of a job, or null for a job name without one (it runs at start-up and on demand only).
    /// The names are those of <see cref="ModelChannels.JobNames"/>; a test checks that each of them has an interval here.
    /// </summary>
    public TimeSpan? IntervalFor(string job) => job switch
    {
        ModelChannels.Popular => TimeSpan.FromMinutes(PopularItemsRefreshMinutes),
        ModelChannels.Profiles => TimeSpan.FromMinutes(UserProfilesRefreshMinutes),
        ModelChannels.Similarities => TimeSpan.FromMinutes(SimilaritiesRefreshMinutes),
        ModelChannels.Cleanup => TimeSpan.FromHours(CleanupRefreshHours),
        _ => null,
    };

    /// <summary>
    /// Applies each seed name whose <c>Refresher:*</c> key is not set. A value that is not a positive number (invariant
    /// culture) fails start-up, naming the setting, rather than being ignored.
    /// </summary>
    internal void ApplySeedEnvironmentNames(IConfiguration configuration)
    {
        foreach (var (name, property, apply) in SeedEnvironmentNames)
        {
            if (SeedEnvironmentSetting.TryReadPositiveNumber(configuration, name, $"{SectionName}:{property}", typeof(RefresherOptions), out var value))
            {
                apply(this, value);
            }
        }
    }

    internal IEnumerable<string> Validate()
    {
        foreach (var (name, value) in new[]
                 {
                     (nameof(PopularItemsRefreshMinutes), PopularItemsRefreshMinutes),
                     (nameof(UserProfilesRefreshMinutes), UserProfilesRefreshMinutes),
                     (nameof(SimilaritiesRefreshMinutes), SimilaritiesRefreshMinutes),
                     (nameof(CleanupRefreshHours), CleanupRefreshHours),
                     (nameof(FailedJobRetryMinutes), FailedJobRetryMinutes),
                     (nameof(LeaderCheckSeconds), LeaderCheckSeconds),
                     (nameof(RequestPollSeconds), RequestPollSeconds),
                 })
        {
            if (!(value > 0))
            {
                yield return $"{SectionName}:{name} must be greater than 0 (was {value}).";
            }
        }
        if (!Recommendations.Ingest.SyntheticDatasetSize.All.Any(s => string.Equals(s.Name, DemoDataSize, StringComparison.OrdinalIgnoreCase)))
        {
            yield return $"{SectionName}:{nameof(DemoDataSize)} must be tiny, S or L (was '{DemoDataSize}').";
        }
        if (string.IsNullOrWhiteSpace(InstanceName))
        {
            yield return $"{SectionName}:{nameof(InstanceName)} must not be empty.";
        }
    }

    /// <summary>
    /// The job name in a refresh request that means every job (in <see cref="ModelChannels.JobNames"/>); the API's
    /// admin endpoint sends the same word.
    /// </summary>
    public const string AllJobs = ModelChannels.AllJobs;
}
