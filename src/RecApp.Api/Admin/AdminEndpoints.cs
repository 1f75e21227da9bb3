using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Caching.Hybrid;
using RecApp.Api.Catalog;
using RecApp.Api.Recommendations;
using RecApp.Api.Stats;
using RecApp.Api.Validation;
using RecApp.Engine.Model;
using RecApp.Engine.Training;
using RecApp.Engine.Embeddings;
using RecApp.Data;
using RecApp.Data.Models;
using RecApp.Api.Model;
using RecApp.Data.Jobs;

namespace RecApp.Api.Admin;

/// <summary>Operator endpoints under <c>/admin</c>, for callers with the admin key (<see cref="AdminKey"/>).</summary>
public static class AdminEndpoints
{

    public static IEndpointRouteBuilder MapAdminEndpoints(this IEndpointRouteBuilder app)
    {
        // Authentication runs first (a request without the right key is answered before anything else, and its
        // failure counted per address); an operator with the key shares the per-client budget.
        var admin = app.MapGroup("/admin").WithTags("Admin")
            .RequireAuthorization(AdminKey.Policy)
            .RequireRateLimiting(ClientRateLimiting.Policy)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);

        admin.MapPost("/refresh/{job}", RefreshAsync)
            .ProducesValidationProblem()
            .WithSummary("Asks the Refresher to run a job now: popular, profiles, similarities, cleanup or all.");
        // The service contract's own routes for two of those jobs.
        admin.MapPost("/refresh-popular-items", (RefreshRequestStore store, DatabaseWrites writes) =>
                RefreshAsync(JobNames.Popular, store, writes))
            .WithSummary("The service contract's name for POST /admin/refresh/popular.");
        admin.MapPost("/update-user-profiles", (RefreshRequestStore store, DatabaseWrites writes) =>
                RefreshAsync(JobNames.Profiles, store, writes))
            .WithSummary("The service contract's name for POST /admin/refresh/profiles.");
        admin.MapPost("/cache/clear", ClearAsync)
            .WithSummary("Evicts every cached recommendation list on every instance.");
        admin.MapPost("/cache/invalidate", InvalidateAsync)
            .ProducesValidationProblem()
            .WithSummary("Evicts the lists of one user, the neighbors of one item, or one tag.");
        admin.MapGet("/cache/stats", (StatsReader stats) => TypedResults.Ok(stats.CacheFigures()))
            .WithSummary("Cache hits and misses per kind of list.");
        return app;
    }

    private static async Task<Results<Accepted<RefreshAccepted>, ProblemHttpResult>> RefreshAsync(
        string job, RefreshRequestStore store, DatabaseWrites writes)
    {
        var name = job.ToLowerInvariant();
        if (name != JobNames.All && !JobNames.Every.Contains(name))
        {
            return Problems.Field("job", $"Unknown job '{job}'; expected one of: {string.Join(", ", JobNames.Every)}, {JobNames.All}.");
        }
        string[] jobs = name == JobNames.All ? [.. JobNames.Every] : [name];

        var requests = await writes.WithinTimeoutAsync((gate, token) => store.RequestAsync(jobs, "api", gate, token));
        return TypedResults.Accepted((string?)null, new RefreshAccepted([.. requests.Select(r => new RefreshRequested(r.Id, r.Job))]));
    }

    private static async Task<Ok<CacheInvalidated>> ClearAsync(HybridCache cache)
    {
        await cache.RemoveByTagAsync(RankedListCache.AllRecommendationsTag, CancellationToken.None);
        return TypedResults.Ok(new CacheInvalidated([RankedListCache.AllRecommendationsTag]));
    }

    private static async Task<Ok<CacheInvalidated>> InvalidateAsync(
        InvalidateRequest body, HybridCache cache, CatalogSync catalog, ILoggerFactory loggers)
    {
        var tags = body.Tags();
        await cache.RemoveByTagAsync(tags, CancellationToken.None);
        if (body.ItemId is { } changed)
        {
            // Also make every instance re-read the item, in case it was changed behind the API's back. The eviction
            // above is done either way: a database outage here is a partial success, not a failure.
            try
            {
                await catalog.RefreshAsync(changed);
            }
            catch (Exception ex) when (ApiExceptionHandler.IsDatabaseOutage(ex))
            {
                loggers.CreateLogger(typeof(AdminEndpoints)).LogWarning(ex, "Evicted the lists of item {ItemId} but could not re-read it.", changed);
                return TypedResults.Ok(new CacheInvalidated([.. tags],
                    $"The cache entries were evicted, but item {changed} could not be re-read (database unreachable); " +
                    "instances apply its current row when the database is back."));
            }
        }
        return TypedResults.Ok(new CacheInvalidated([.. tags]));
    }
}
