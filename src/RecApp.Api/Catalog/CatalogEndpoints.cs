using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Options;
using RecApp.Api.Recommendations;
using RecApp.Api.Validation;
using RecApp.Recommendations.Data;

namespace RecApp.Api.Catalog;

/// <summary>
/// Catalog and user maintenance. An item change is committed, applied to this instance's live catalog at once
/// and announced to the others, so every instance stops serving a deactivated item within a second.
/// </summary>
public static class CatalogEndpoints
{
    private const int MaxTitleLength = 500;
    private const int MaxCategoryLength = 100;
    private const int MaxTags = 50;
    private const decimal MaxPrice = 9_999_999_999.99m;

    public static IEndpointRouteBuilder MapCatalogEndpoints(this IEndpointRouteBuilder app)
    {
        var items = app.MapGroup("/items").WithTags("Catalog").RequireRateLimiting(ClientRateLimiting.Policy);
        items.MapPut("/{id}", PutItemAsync)
            .Accepts<ItemUpsert>("application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .WithSummary("Creates or replaces an item.");
        items.MapGet("/{id}", GetItemAsync)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("An item, active or not.");
        items.MapDelete("/{id}", DeactivateItemAsync)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("Deactivates an item: it stops being recommended everywhere within a second.");

        app.MapGroup("/users").WithTags("Catalog").RequireRateLimiting(ClientRateLimiting.Policy)
            .MapPut("/{id}", PutUserAsync)
            .Accepts<UserUpsert>("application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .WithSummary("Creates or replaces a user's demographics.");
        return app;
    }

    private static async Task<Results<Ok<ItemResponse>, Created<ItemResponse>, ProblemHttpResult>> PutItemAsync(
        string id, HttpContext context, CatalogWriter writer, CatalogSync sync)
    {
        var errors = new FieldErrors();
        var itemId = QueryValues.Id(id, "id", errors);
        var (body, problem) = await JsonBody.ReadAsync(context.Request, ApiJsonContext.Default.ItemUpsert);
        if (problem is not null)
        {
            return problem;
        }
        if (string.IsNullOrWhiteSpace(body!.Title) || body.Title.Length > MaxTitleLength)
        {
            errors.Add("title", $"Required: 1 to {MaxTitleLength} characters.");
        }
        else
        {
            RequestChecks.StorableText(body.Title, "title", errors);
        }
        if (string.IsNullOrWhiteSpace(body.Category) || body.Category.Length > MaxCategoryLength)
        {
            errors.Add("category", $"Required: 1 to {MaxCategoryLength} characters.");
        }
        else
        {
            RequestChecks.StorableText(body.Category, "category", errors);
        }
        if (body.Price is null)
        {
            errors.Add("price", "Required.");
        }
        else if (body.Price is < 0 or > MaxPrice)
        {
            errors.Add("price", $"Must be between 0 and {MaxPrice}.");
        }
        if (body.GeoId <= 0)
        {
            errors.Add("geo_id", "Must be a positive integer id.");
        }
        if (body.Tags is { } tags && (tags.Length > MaxTags || tags.Any(t => string.IsNullOrWhiteSpace(t) || t.Length > MaxCategoryLength)))
        {
            errors.Add("tags", $"At most {MaxTags} non-empty tags of at most {MaxCategoryLength} characters.");
        }
        else if (body.Tags is { } checkedTags && Array.Find(checkedTags, t => t.Contains('\0')) is { } withNul)
        {
            RequestChecks.StorableText(withNul, "tags", errors);
        }
        if (errors.Any)
        {
            return errors.ToProblem();
        }

        var (item, created) = await writer.UpsertItemAsync(
            itemId, body.Title!.Trim(), body.Category!.Trim(), body.Tags ?? [], Math.Round(body.Price!.Value, 2), body.GeoId,
            body.Active ?? true);
        await sync.PublishAsync(ToCatalogItem(item));
        return created ? TypedResults.Created($"/items/{item.Id}", item) : TypedResults.Ok(item);
    }

    private static async Task<Results<Ok<ItemResponse>, ProblemHttpResult>> GetItemAsync(
        string id, RecDbContext db, CancellationToken cancellationToken)
    {
        var errors = new FieldErrors();
        var itemId = QueryValues.Id(id, "id", errors);
        if (errors.Any)
        {
            return errors.ToProblem();
        }
        var item = await db.Items.AsNoTracking().FirstOrDefaultAsync(i => i.Id == itemId, cancellationToken);
        return item is null ? Problems.NotFound("id", $"Item {itemId} does not exist.") : TypedResults.Ok(ToResponse(item));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeactivateItemAsync(
        string id, CatalogWriter writer, CatalogSync sync)
    {
        var errors = new FieldErrors();
        var itemId = QueryValues.Id(id, "id", errors);
        if (errors.Any)
        {
            return errors.ToProblem();
        }
        var item = await writer.DeactivateItemAsync(itemId);
        if (item is null)
        {
            return Problems.NotFound("id", $"Item {itemId} does not exist.");
        }
        await sync.PublishAsync(ToCatalogItem(item));
        return TypedResults.NoContent();
    }

    private static async Task<Results<Ok<UserResponse>, Created<UserResponse>, ProblemHttpResult>> PutUserAsync(
        string id, HttpContext context, CatalogWriter writer, HybridCache cache, IOptionsMonitor<ApiOptions> options)
    {
        var errors = new FieldErrors();
        var userId = QueryValues.Id(id, "id", errors);
        var (body, problem) = await JsonBody.ReadAsync(context.Request, ApiJsonContext.Default.UserUpsert);
        if (problem is not null)
        {
            return problem;
        }
        var settings = options.CurrentValue;
        var gender = RequestChecks.Known(body!.Gender, settings.Genders, "gender", errors);
        var ageGroup = body.Age is not null
            ? RequestChecks.Known(body.Age, settings.AgeGroups, "age", errors)
            : RequestChecks.Known(body.AgeGroup, settings.AgeGroups, "age_group", errors);
        if (body.Age is not null && body.AgeGroup is not null && !string.Equals(body.Age, body.AgeGroup, StringComparison.OrdinalIgnoreCase))
        {
            errors.Add("age", "age and its alias age_group disagree; send one of them.");
        }
        if (body.GeoId <= 0)
        {
            errors.Add("geo_id", "Must be a positive integer id.");
        }
        if (errors.Any)
        {
            return errors.ToProblem();
        }

        var (user, created) = await writer.UpsertUserAsync(userId, gender, ageGroup, body.GeoId);
        // A new user's answer depends on demographics: drop what was cached for them.
        await cache.RemoveByTagAsync(RankedListCache.UserTag(userId), CancellationToken.None);

        return created ? TypedResults.Created($"/users/{user.Id}", user) : TypedResults.Ok(user);
    }

    private static CatalogItem ToCatalogItem(ItemResponse item) =>
        new(item.Id, item.Title, item.Category, item.Tags, item.Price, item.GeoId, item.Active, item.CreatedAt);

    private static ItemResponse ToResponse(ItemRecord item) =>
        new(item.Id, item.Title, item.Category, item.Tags, item.Price, item.GeoId, item.Active, item.CreatedAt, item.UpdatedAt);
}
