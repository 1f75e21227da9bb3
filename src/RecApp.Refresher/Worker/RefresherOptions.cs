using System.ComponentModel.DataAnnotations;
using RecApp.ServiceDefaults;
using RecApp.Engine.Model;
using RecApp.Engine.Training;
using RecApp.Engine.Embeddings;
using RecApp.Data;
using RecApp.Data.Models;
using RecApp.Refresher.Jobs;
using RecApp.Data.Jobs;

namespace RecApp.Refresher.Worker;

/// <summary>
/// Settings of the Refresher worker, section <c>Refresher</c>, validated at start-up. The service contract's environment names
/// (<c>POPULAR_ITEMS_REFRESH_MINUTES</c>, <c>USER_PROFILES_REFRESH_MINUTES</c>, <c>SIMILARITIES_REFRESH_MINUTES</c>,
/// <c>CACHE_CLEANUP_HOURS</c>) reach the interval keys through <see cref="ContractEnvironmentNames"/>; the .NET key wins
/// when both are set.
/// </summary>
public sealed class RefresherOptions
{
    public const string SectionName = "Refresher";

    private const string Shortest = "00:00:00.001";
    private const string Longest = "365.00:00:00";

    /// <summary>Interval of the <c>popular</c> job (popularity and trending); seed: <c>POPULAR_ITEMS_REFRESH_MINUTES</c>.</summary>
    [Range(typeof(TimeSpan), Shortest, Longest, ErrorMessage = "Refresher:PopularItemsRefreshInterval (POPULAR_ITEMS_REFRESH_MINUTES) must be positive.")]
    public TimeSpan PopularItemsRefreshInterval { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Interval of the <c>profiles</c> job; seed: <c>USER_PROFILES_REFRESH_MINUTES</c>.</summary>
    [Range(typeof(TimeSpan), Shortest, Longest, ErrorMessage = "Refresher:UserProfilesRefreshInterval (USER_PROFILES_REFRESH_MINUTES) must be positive.")]
    public TimeSpan UserProfilesRefreshInterval { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>Interval of the <c>similarities</c> job (item and user neighbors); seed: <c>SIMILARITIES_REFRESH_MINUTES</c>.</summary>
    [Range(typeof(TimeSpan), Shortest, Longest, ErrorMessage = "Refresher:SimilaritiesRefreshInterval (SIMILARITIES_REFRESH_MINUTES) must be positive.")]
    public TimeSpan SimilaritiesRefreshInterval { get; set; } = TimeSpan.FromMinutes(60);

    /// <summary>
    /// Interval of the <c>cleanup</c> job (the service contract's <c>CACHE_CLEANUP_HOURS</c>): it deletes retired and failed model
    /// versions, marks stale builds failed, and trims old job runs and handled refresh requests, all in PostgreSQL.
    /// The cache needs no sweep: its tag records expire by themselves in Redis after the cache's <c>TagRetention</c>.
    /// </summary>
    [Range(typeof(TimeSpan), Shortest, Longest, ErrorMessage = "Refresher:CleanupInterval (CACHE_CLEANUP_HOURS) must be positive.")]
    public TimeSpan CleanupInterval { get; set; } = TimeSpan.FromHours(6);

    /// <summary>A failed job is retried after this long, or after its interval when that is shorter.</summary>
    [Range(typeof(TimeSpan), Shortest, Longest, ErrorMessage = "Refresher:FailedJobRetryDelay must be positive.")]
    public TimeSpan FailedJobRetryDelay { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>When the catalog is empty at start-up, generate and load demo data before the first jobs.</summary>
    public bool LoadDemoDataWhenEmpty { get; set; }

    /// <summary>Size of the demo data: <c>tiny</c>, <c>S</c> or <c>L</c>.</summary>
    [KnownDemoDataSize]
    public string DemoDataSize { get; set; } = "S";

    /// <summary>Random seed of the demo data.</summary>
    public int DemoDataSeed { get; set; } = 42;

    /// <summary>Name recorded in <c>job_runs.host</c>.</summary>
    [Required(ErrorMessage = "Refresher:InstanceName must not be empty.")]
    public string InstanceName { get; set; } = $"{Environment.MachineName}:{Environment.ProcessId}";

    /// <summary>How often the leader checks its lock connection, and how long a follower waits after a database error.</summary>
    [Range(typeof(TimeSpan), Shortest, Longest, ErrorMessage = "Refresher:LeaderCheckInterval must be positive.")]
    public TimeSpan LeaderCheckInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often <c>refresh_requests</c> is read even without a NOTIFY (a missed notification is never lost).</summary>
    [Range(typeof(TimeSpan), Shortest, Longest, ErrorMessage = "Refresher:RequestPollInterval must be positive.")]
    public TimeSpan RequestPollInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The schedule interval of a job, or null for a job name without one (it runs at start-up and on demand only).
    /// The names are those of <see cref="JobNames.Every"/>; a test checks that each of them has an interval here.
    /// </summary>
    public TimeSpan? IntervalFor(string job) => job switch
    {
        JobNames.Popular => PopularItemsRefreshInterval,
        JobNames.Profiles => UserProfilesRefreshInterval,
        JobNames.Similarities => SimilaritiesRefreshInterval,
        JobNames.Cleanup => CleanupInterval,
        _ => null,
    };

    /// <summary>
    /// The job name in a refresh request that means every job (in <see cref="JobNames.Every"/>); the API's
    /// admin endpoint sends the same word.
    /// </summary>
    public const string AllJobs = JobNames.All;
}

/// <summary>A size the synthetic generator knows (case-insensitive).</summary>
[AttributeUsage(AttributeTargets.Property)]
internal sealed class KnownDemoDataSizeAttribute() : ValidationAttribute("Refresher:DemoDataSize must be tiny, S or L.")
{
    public override bool IsValid(object? value) =>
        value is string size && RecApp.Engine.Datasets.SyntheticDatasetSize.All.Any(s => string.Equals(s.Name, size, StringComparison.OrdinalIgnoreCase));
}
