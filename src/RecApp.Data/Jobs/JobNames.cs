namespace RecApp.Data.Jobs;

/// <summary>
/// The Refresher's jobs by name: the names <c>job_runs</c> and <c>refresh_requests</c> store, the API's
/// <c>POST /admin/refresh/{job}</c> accepts, and each job reports. Their schedules are the Refresher's settings
/// (<c>RefresherOptions.IntervalFor</c>, one line per job).
/// </summary>
public static class JobNames
{
    /// <summary>The popularity and trending job.</summary>
    public const string Popular = "popular";

    /// <summary>The user profiles job.</summary>
    public const string Profiles = "profiles";

    /// <summary>The item and user similarities job (neighbors, embeddings, and what the tuning chose).</summary>
    public const string Similarities = "similarities";

    /// <summary>The retention job (retired versions, stale builds, job history).</summary>
    public const string Cleanup = "cleanup";

    /// <summary>The name in a refresh request (and <c>POST /admin/refresh/all</c>) that means every job.</summary>
    public const string All = "all";

    /// <summary>Every job, in the order a full run takes them.</summary>
    public static readonly IReadOnlyList<string> Every = [Popular, Profiles, Similarities, Cleanup];

    /// <summary>The jobs that build and publish model parts (a full build, without the cleanup).</summary>
    public static readonly IReadOnlyList<string> Builds = [Popular, Profiles, Similarities];
}
