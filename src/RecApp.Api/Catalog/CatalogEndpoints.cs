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
    public static IEndpointRouteBuilder MapCatalogEndpoints(this IEndpointRouteBuilder app)
    {
        var items = app.MapGroup("/items").WithTags("Catalog").RequireRateLimiting(ClientRateLimiting.Policy)
            .ProducesValidationProblem();
        items.MapPut("/{id}", PutItemAsync)
            .AddEndpointFilter(RefuseWhenShopOwnsCatalog)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .WithSummary("Creates or replaces an item (409 when a source database owns the catalog).");
        items.MapGet("/{id}", GetItemAsync)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("An item, active or not.");
        items.MapDelete("/{id}", DeactivateItemAsync)
            .AddEndpointFilter(RefuseWhenShopOwnsCatalog)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .WithSummary("Deactivates an item: it stops being recommended everywhere within a second (409 when a source database owns the catalog).");

        app.MapGroup("/users").WithTags("Catalog").RequireRateLimiting(ClientRateLimiting.Policy)
            .MapPut("/{id}", PutUserAsync)
            .ProducesValidationProblem()
            .WithSummary("Creates or replaces a user's demographics.");
        return app;
    }

    private static async Task<Results<Ok<ItemResponse>, Created<ItemResponse>>> PutItemAsync(
        [PositiveId] long id, ItemUpsert body, CatalogWriter writer, CatalogSync sync)
    {
        var (item, created) = await writer.UpsertItemAsync(
            id, body.Title!.Trim(), body.Category!.Trim(), body.Tags ?? [], Math.Round(body.Price!.Value, 2), body.GeoId,
            body.Active ?? true);
        await sync.PublishAsync(ToCatalogItem(item));
        return created ? TypedResults.Created($"/items/{item.Id}", item) : TypedResults.Ok(item);
    }

    /// <summary>
    /// With a source database the catalog is the shop's, read-only to RecApp: item writes are refused before the body is
    /// read (the shop changes its own tables; the API's catalog poll picks the change up).
    /// </summary>
    private static async ValueTask<object?> RefuseWhenShopOwnsCatalog(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        if (context.HttpContext.RequestServices.GetService<SourceDatabase>() is null)
        {
            return await next(context);
        }
        return TypedResults.Problem(
            detail: "The catalog is read from the source database (ConnectionStrings:maindb / MAIN_DATABASE_URL) and is owned by " +
                    "the shop: change items there. RecApp never writes to it.",
            statusCode: StatusCodes.Status409Conflict,
            title: "The catalog is read-only here.",
            type: "https://www.rfc-editor.org/rfc/rfc9110#section-15.5.10");
    }

    private static async Task<Results<Ok<ItemResponse>, ProblemHttpResult>> GetItemAsync(
        [PositiveId] long id, RecDbContext db, IServiceProvider services, CancellationToken cancellationToken)
    {
        if (services.GetService<SourceDatabase>() is { } source)
        {
            return await source.ReadItemAsync(id, cancellationToken) is { } row
                ? TypedResults.Ok(new ItemResponse(row.Item.Id, row.Item.Title, row.Item.Category, row.Item.Tags, row.Item.Price,
                    row.Item.GeoId, row.Item.Active, row.Item.CreatedAt, row.UpdatedAt))
                : Problems.NotFound("id", $"Item {id} does not exist.");
        }
        var item = await db.Items.AsNoTracking().FirstOrDefaultAsync(i => i.Id == id, cancellationToken);
        return item is null ? Problems.NotFound("id", $"Item {id} does not exist.") : TypedResults.Ok(ToResponse(item));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeactivateItemAsync(
        [PositiveId] long id, CatalogWriter writer, CatalogSync sync)
    {
        var item = await writer.DeactivateItemAsync(id);
        if (item is null)
        {
            return Problems.NotFound("id", $"Item {id} does not exist.");
        }
        await sync.PublishAsync(ToCatalogItem(item));
        return TypedResults.NoContent();
    }

    private static async Task<Results<Ok<UserResponse>, Created<UserResponse>>> PutUserAsync(
        [PositiveId] long id, UserUpsert body, CatalogWriter writer, HybridCache cache, IOptionsMonitor<ApiOptions> options)
    {
        var settings = options.CurrentValue;
        var (user, created) = await writer.UpsertUserAsync(id,
            ValidationServices.Canonical(body.Gender, settings.Genders),
            ValidationServices.Canonical(body.Age ?? body.AgeGroup, settings.AgeGroups),
            body.GeoId);
        // A new user's answer depends on demographics: drop what was cached for them.
        await cache.RemoveByTagAsync(RankedListCache.UserTag(id), CancellationToken.None);
        return created ? TypedResults.Created($"/users/{user.Id}", user) : TypedResults.Ok(user);
    }

    private static CatalogItem ToCatalogItem(ItemResponse item) =>
        new(item.Id, item.Title, item.Category, item.Tags, item.Price, item.GeoId, item.Active, item.CreatedAt);

    private static ItemResponse ToResponse(ItemRecord item) =>
        new(item.Id, item.Title, item.Category, item.Tags, item.Price, item.GeoId, item.Active, item.CreatedAt, item.UpdatedAt);
}
