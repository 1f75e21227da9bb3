using System.Diagnostics;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using RecApp.Api.Experiments;
using RecApp.Api.Validation;
using RecApp.Recommendations.Model;
using RecApp.Recommendations.Scoring;

namespace RecApp.Api.Recommendations;

/// <summary>Seed 002's recommendation endpoints, plus the simple-client GET forms and the batch read.</summary>
public static class RecommendationEndpoints
{
    public static IEndpointRouteBuilder MapRecommendationEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("").WithTags("Recommendations").RequireRateLimiting(ClientRateLimiting.Policy)
            .AddEndpointFilter<ExperimentHeader>();

        group.MapPost("/popular", PopularAsync)
            .Accepts<PopularRequest>("application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .WithSummary("Popular items for a demographic segment, filtered and paged.");
        group.MapPost("/personalized", PersonalizedAsync)
            .Accepts<PersonalizedRequest>("application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .WithSummary("A user's recommendations: popular (new user), content (1-2 interactions) or collaborative (3+).");
        group.MapGet("/users/{user_id}/recommendations", UserRecommendationsAsync)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .WithSummary("The same as POST /personalized, for simple clients (query parameters).");
        group.MapGet("/items/{item_id}/similar", SimilarAsync)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("Items similar to an item.");
        group.MapPost("/personalized/batch", BatchAsync)
            .Accepts<BatchRequest>("application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .WithSummary("The first page of recommendations for up to 100 users in one call.");
        return app;
    }

    private static async Task<Results<Ok<RecommendationResponse>, ProblemHttpResult>> PopularAsync(
        HttpContext context, RankedListCache lists, IGlobalModel model, IOptionsMonitor<ApiOptions> options,
        CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var (request, problem) = await JsonBody.ReadAsync(context.Request, ApiJsonContext.Default.PopularRequest);
        if (problem is not null)
        {
            return problem;
        }
        var settings = options.CurrentValue;
        var errors = new FieldErrors();
        var user = request!.UserParams ?? new UserParams();
        var demographics = new Demographics(
            RequestChecks.Known(user.Gender, settings.Genders, "user_params.gender", errors),
            RequestChecks.Known(user.Age, settings.AgeGroups, "user_params.age", errors),
            RequestChecks.PositiveOrNull(user.GeoId, "user_params.geo_id", errors),
            Category(user.Category, "user_params.category", errors));
        var filters = Filters(request.Filters, geoId: null, errors);
        var (page, limit) = Page(request.Pagination?.Page, request.Pagination?.Limit, "pagination.", settings, errors);
        if (errors.Any)
        {
            return errors.ToProblem();
        }

        var cached = await lists.PopularAsync(demographics, filters, cancellationToken);
        return TypedResults.Ok(PageAnswer.Cut(cached, model.Current.Catalog, filters, page, limit, started));
    }

    private static async Task<Results<Ok<RecommendationResponse>, ProblemHttpResult>> PersonalizedAsync(
        HttpContext context, RankedListCache lists, IGlobalModel model, IOptionsMonitor<ApiOptions> options,
        CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var (request, problem) = await JsonBody.ReadAsync(context.Request, ApiJsonContext.Default.PersonalizedRequest);
        if (problem is not null)
        {
            return problem;
        }
        var errors = new FieldErrors();
        if (request!.UserId is not { } userId)
        {
            errors.Add("user_id", "Required.");
            userId = 0;
        }
        else if (userId <= 0)
        {
            errors.Add("user_id", "Must be a positive integer id.");
        }
        var filters = Filters(request.Filters, RequestChecks.PositiveOrNull(request.GeoId, "geo_id", errors), errors);
        var (page, limit) = Page(request.Pagination?.Page, request.Pagination?.Limit, "pagination.", options.CurrentValue, errors);
        return await ForUserAsync(userId, filters, page, limit, errors, lists, model, started, cancellationToken);
    }

    private static async Task<Results<Ok<RecommendationResponse>, ProblemHttpResult>> UserRecommendationsAsync(
        string user_id, HttpContext context, RankedListCache lists, IGlobalModel model,
        IOptionsMonitor<ApiOptions> options, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var errors = new FieldErrors();
        var userId = QueryValues.Id(user_id, "user_id", errors);
        var query = new PriceFilters(
            QueryValues.Decimal(context, "price_from", errors),
            QueryValues.Decimal(context, "price_to", errors),
            QueryValues.String(context, "category"));
        var filters = Filters(query, RequestChecks.PositiveOrNull(QueryValues.Int(context, "geo_id", errors), "geo_id", errors), errors, prefix: "");
        var (page, limit) = Page(
            QueryValues.Int(context, "page", errors), QueryValues.Int(context, "limit", errors), "", options.CurrentValue, errors);
        return await ForUserAsync(userId, filters, page, limit, errors, lists, model, started, cancellationToken);
    }

    /// <summary>What <c>POST /personalized</c> and <c>GET /users/{id}/recommendations</c> share once their inputs are read.</summary>
    private static async Task<Results<Ok<RecommendationResponse>, ProblemHttpResult>> ForUserAsync(
        long userId, RecommendationFilters filters, int page, int limit, FieldErrors errors, RankedListCache lists,
        IGlobalModel model, long started, CancellationToken cancellationToken)
    {
        if (errors.Any)
        {
            return errors.ToProblem();
        }
        var cached = await lists.ForUserAsync(userId, filters, cancellationToken);
        return TypedResults.Ok(PageAnswer.Cut(cached, model.Current.Catalog, filters, page, limit, started));
    }

    private static async Task<Results<Ok<RecommendationResponse>, ProblemHttpResult>> SimilarAsync(
        string item_id, HttpContext context, RankedListCache lists, IGlobalModel model,
        IOptionsMonitor<ApiOptions> options, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var errors = new FieldErrors();
        var itemId = QueryValues.Id(item_id, "item_id", errors);
        var (page, limit) = Page(
            QueryValues.Int(context, "page", errors), QueryValues.Int(context, "limit", errors), "", options.CurrentValue, errors);
        if (errors.Any)
        {
            return errors.ToProblem();
        }
        if (model.Current.Catalog.Find(itemId) is null)
        {
            return Problems.NotFound("item_id", $"Item {itemId} does not exist.");
        }

        try
        {
            var cached = await lists.SimilarAsync(itemId, cancellationToken);
            return TypedResults.Ok(PageAnswer.Cut(cached, model.Current.Catalog, RecommendationFilters.None, page, limit, started));
        }
        catch (UnknownItemException)
        {
            return Problems.NotFound("item_id", $"Item {itemId} does not exist.");
        }
    }

    private static async Task<Results<Ok<BatchResponse>, ProblemHttpResult>> BatchAsync(
        HttpContext context, RankedListCache lists, IGlobalModel model, IOptionsMonitor<ApiOptions> options,
        CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var (request, problem) = await JsonBody.ReadAsync(context.Request, ApiJsonContext.Default.BatchRequest);
        if (problem is not null)
        {
            return problem;
        }
        var settings = options.CurrentValue;
        var errors = new FieldErrors();
        var userIds = request!.UserIds;
        if (userIds is null || userIds.Length == 0)
        {
            errors.Add("user_ids", "Required: between 1 and " + settings.MaxBatchUsers + " user ids.");
        }
        else if (userIds.Length > settings.MaxBatchUsers)
        {
            errors.Add("user_ids", $"At most {settings.MaxBatchUsers} user ids per request, got {userIds.Length}.");
        }
        else
        {
            for (var i = 0; i < userIds.Length; i++)
            {
                if (userIds[i] <= 0)
                {
                    errors.Add($"user_ids[{i}]", "Must be a positive integer id.");
                }
            }
        }
        var (_, limit) = Page(1, request.Limit, "", settings, errors);
        if (errors.Any)
        {
            return errors.ToProblem();
        }

        var lookups = await lists.ForUsersAsync(userIds!, cancellationToken);
        var catalog = model.Current.Catalog;
        var results = new BatchEntry[userIds!.Length];
        for (var i = 0; i < results.Length; i++)
        {
            var answer = PageAnswer.Cut(lookups[i], catalog, RecommendationFilters.None, 1, limit, started);
            results[i] = new BatchEntry(userIds[i], answer.Items, answer.AlgorithmUsed, answer.CacheHit, answer.ModelVersion);
        }
        return TypedResults.Ok(new BatchResponse(results, PageAnswer.ElapsedMs(started)));
    }

    private static RecommendationFilters Filters(PriceFilters? filters, int? geoId, FieldErrors errors, string prefix = "filters.")
    {
        if (filters is null)
        {
            return geoId is null ? RecommendationFilters.None : new RecommendationFilters(GeoId: geoId);
        }
        if (filters.PriceFrom < 0)
        {
            errors.Add(prefix + "price_from", "Must be 0 or more.");
        }
        if (filters.PriceTo < 0)
        {
            errors.Add(prefix + "price_to", "Must be 0 or more.");
        }
        if (filters.PriceFrom > filters.PriceTo)
        {
            errors.Add(prefix + "price_from", "Must not exceed price_to.");
        }
        var category = Category(filters.Category, prefix + "category", errors);
        var result = new RecommendationFilters(filters.PriceFrom, filters.PriceTo, category, geoId);
        return result == RecommendationFilters.None ? RecommendationFilters.None : result;
    }

    private static (int Page, int Limit) Page(int? page, int? limit, string prefix, ApiOptions options, FieldErrors errors)
    {
        if (page < 1)
        {
            errors.Add(prefix + "page", "Must be 1 or more.");
        }
        if (limit < 1 || limit > options.MaxPageSize)
        {
            errors.Add(prefix + "limit", $"Must be between 1 and {options.MaxPageSize}.");
        }
        return (page ?? 1, limit ?? options.DefaultPageSize);
    }

    private static string? Category(string? value, string field, FieldErrors errors)
    {
        if (value is null)
        {
            return null;
        }
        if (string.IsNullOrWhiteSpace(value) || value.Length > 100)
        {
            errors.Add(field, "Must be a non-empty category name of at most 100 characters.");
            return null;
        }
        if (!RequestChecks.StorableText(value, field, errors))
        {
            return null;
        }
        return value.Trim();
    }
}
