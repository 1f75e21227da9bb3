using System.Diagnostics;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using RecApp.Api.Validation;
using RecApp.Engine.Model;
using RecApp.Engine.Embeddings;
using RecApp.Data;
using RecApp.Data.Models;
using RecApp.Api.Model;
using RecApp.Engine.Domain;

namespace RecApp.Api.Recommendations;

/// <summary>
/// The service contract's recommendation endpoints, plus the simple-client GET forms and the batch read. Inputs are bound and
/// validated by the framework (the contracts carry the rules), so a handler only serves.
/// </summary>
public static class RecommendationEndpoints
{
    public static IEndpointRouteBuilder MapRecommendationEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("").WithTags("Recommendations").RequireRateLimiting(ClientRateLimiting.Policy)
            .ProducesValidationProblem();

        group.MapPost("/popular", PopularAsync)
            .WithSummary("Popular items for a demographic segment, filtered and paged.");
        group.MapPost("/personalized", PersonalizedAsync)
            .WithSummary("A user's recommendations: popular (new user), content (1-2 interactions) or collaborative (3+).");
        group.MapGet("/users/{user_id}/recommendations", UserRecommendationsAsync)
            .WithSummary("The same as POST /personalized, for simple clients (query parameters).");
        group.MapGet("/items/{item_id}/similar", SimilarAsync)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("Items similar to an item.");
        group.MapPost("/personalized/batch", BatchAsync)
            .WithSummary("The first page of recommendations for up to 100 users in one call.");
        return app;
    }

    private static async Task<PageResult> PopularAsync(
        PopularRequest body, RankedListCache lists, PageBodies pages, IGlobalModel model, IOptionsMonitor<ApiOptions> options,
        CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var settings = options.CurrentValue;
        var filters = body.Filters?.ToFilters(geoId: null) ?? RecommendationFilters.None;
        var (page, limit) = Paging.Resolve(body.Pagination?.Page, body.Pagination?.Limit, settings);
        var snapshot = model.Current; // once per request: the list and the page cut from it see the same model
        var cached = await lists.PopularAsync(snapshot, (body.UserParams ?? new UserParams()).ToDemographics(settings), filters, cancellationToken);
        return pages.Serve(cached, snapshot.Catalog, filters, page, limit, started);
    }

    private static Task<PageResult> PersonalizedAsync(
        PersonalizedRequest body, RankedListCache lists, PageBodies pages, IGlobalModel model, IOptionsMonitor<ApiOptions> options,
        CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var filters = body.Filters?.ToFilters(body.GeoId) ?? PriceRange.Filters(null, null, null, body.GeoId);
        var (page, limit) = Paging.Resolve(body.Pagination?.Page, body.Pagination?.Limit, options.CurrentValue);
        return ForUserAsync(body.UserId!.Value, filters, page, limit, lists, pages, model, started, cancellationToken);
    }

    private static Task<PageResult> UserRecommendationsAsync(
        [AsParameters] UserRecommendationsQuery query, RankedListCache lists, PageBodies pages, IGlobalModel model,
        IOptionsMonitor<ApiOptions> options, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var filters = PriceRange.Filters(query.PriceFrom, query.PriceTo, query.Category, query.GeoId);
        var (page, limit) = Paging.Resolve(query.Page, query.Limit, options.CurrentValue);
        return ForUserAsync(query.UserId, filters, page, limit, lists, pages, model, started, cancellationToken);
    }

    /// <summary>What <c>POST /personalized</c> and <c>GET /users/{id}/recommendations</c> share once their inputs are read.</summary>
    private static async Task<PageResult> ForUserAsync(
        long userId, RecommendationFilters filters, int page, int limit, RankedListCache lists, PageBodies pages,
        IGlobalModel model, long started, CancellationToken cancellationToken)
    {
        var snapshot = model.Current;
        var cached = await ForUserOrFallbackAsync(userId, filters, lists, snapshot, cancellationToken);
        return pages.Serve(cached, snapshot.Catalog, filters, page, limit, started);
    }

    /// <summary>
    /// The user's list; until the model has the parts personalization needs, the popular list, labelled "popular"
    /// and cached only as the popular list it is; with no model at all, 503 (<see cref="ModelReadiness"/>).
    /// </summary>
    private static ValueTask<CachedList> ForUserOrFallbackAsync(
        long userId, RecommendationFilters filters, RankedListCache lists, ModelSnapshot snapshot, CancellationToken cancellationToken)
    {
        if (ModelReadiness.CanPersonalize(snapshot))
        {
            return lists.ForUserAsync(snapshot, userId, filters, cancellationToken);
        }
        ModelReadiness.RequirePopular(snapshot);
        return lists.PopularAsync(snapshot, new Demographics(), filters, cancellationToken);
    }

    private static async Task<Results<PageResult, ProblemHttpResult>> SimilarAsync(
        [AsParameters] SimilarItemsQuery query, RankedListCache lists, PageBodies pages, IGlobalModel model,
        IOptionsMonitor<ApiOptions> options, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var (page, limit) = Paging.Resolve(query.Page, query.Limit, options.CurrentValue);
        var snapshot = model.Current;
        if (snapshot.Catalog.Find(query.ItemId) is null)
        {
            return Problems.NotFound("item_id", $"Item {query.ItemId} does not exist.");
        }
        ModelReadiness.RequireSimilarities(snapshot);
        try
        {
            var cached = await lists.SimilarAsync(snapshot, query.ItemId, cancellationToken);
            return pages.Serve(cached, snapshot.Catalog, RecommendationFilters.None, page, limit, started);
        }
        catch (UnknownItemException)
        {
            return Problems.NotFound("item_id", $"Item {query.ItemId} does not exist.");
        }
    }

    private static async Task<Ok<BatchResponse>> BatchAsync(
        BatchRequest body, RankedListCache lists, IGlobalModel model, IOptionsMonitor<ApiOptions> options,
        CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var (_, limit) = Paging.Resolve(1, body.Limit, options.CurrentValue);
        var userIds = body.UserIds!;
        var snapshot = model.Current;
        CachedList[] lookups;
        if (ModelReadiness.CanPersonalize(snapshot))
        {
            lookups = await lists.ForUsersAsync(snapshot, userIds, cancellationToken);
        }
        else
        {
            ModelReadiness.RequirePopular(snapshot);
            var popular = await lists.PopularAsync(snapshot, new Demographics(), RecommendationFilters.None, cancellationToken);
            lookups = [.. userIds.Select(_ => popular)];
        }
        var catalog = snapshot.Catalog;
        var results = new BatchEntry[userIds.Length];
        for (var i = 0; i < results.Length; i++)
        {
            var answer = PageAnswer.Cut(lookups[i], catalog, RecommendationFilters.None, 1, limit, PageAnswer.ElapsedMs(started));
            lookups[i].Arm?.Record(answer.Items);
            results[i] = new BatchEntry(userIds[i], answer.Items, answer.AlgorithmUsed, answer.CacheHit, answer.ModelVersion, answer.Degraded);
        }
        return TypedResults.Ok(new BatchResponse(results, PageAnswer.ElapsedMs(started)));
    }
}
