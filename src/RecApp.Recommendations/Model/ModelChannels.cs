namespace RecApp.Recommendations.Model;

/// <summary>Names the Refresher and the API agree on to signal each other.</summary>
public static class ModelChannels
{
    /// <summary>PostgreSQL NOTIFY channel that wakes the Refresher for a new row in <c>refresh_requests</c> (payload: the job name).</summary>
    public const string RefreshRequested = "recapp_refresh";

    /// <summary>The popularity and trending job.</summary>
    public const string Popular = "popular";

    /// <summary>The user profiles job.</summary>
    public const string Profiles = "profiles";

    /// <summary>The item and user similarities job.</summary>
    public const string Similarities = "similarities";

    /// <summary>The retention job (retired versions, stale builds, job history).</summary>
    public const string Cleanup = "cleanup";

    /// <summary>The job name in a refresh request (and <c>POST /admin/refresh/all</c>) that means every job.</summary>
    public const string AllJobs = "all";

    /// <summary>Job names, as used by <see cref="IModelJob.Name"/> and <c>POST /admin/refresh/{job}</c>.</summary>
    public static readonly IReadOnlyList<string> JobNames = [Popular, Profiles, Similarities, Cleanup];
}
