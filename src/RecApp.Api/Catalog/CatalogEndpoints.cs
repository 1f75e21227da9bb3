using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Options;
using RecApp.Api.Recommendations;
using RecApp.Api.Validation;
using RecApp.Engine.Domain;
using RecApp.Data.Catalog;
using RecApp.Data.Source;

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

    // Not the request's token: once a write is under way, a client hanging up must not leave it half-known (the write is
    // bounded by Database:WriteTimeout instead).
    private static async Task<Results<Ok<ItemResponse>, Created<ItemResponse>>> PutItemAsync(
        [PositiveId] long id, ItemUpsert body, CatalogStore store, DatabaseWrites writes, CatalogSync sync)
    {
        var item = new CatalogItem(id, body.Title!.Trim(), body.Category!.Trim(), body.Tags ?? [], Math.Round(body.Price!.Value, 2),
            body.GeoId, body.Active ?? true, CreatedAt: default); // created_at is the database's
        var (stored, created) = await writes.WithinTimeoutAsync((gate, token) => store.UpsertItemAsync(item, gate, token));
        await sync.PublishAsync(stored.Item);
        var response = ToResponse(stored);
        return created ? TypedResults.Created($"/items/{id}", response) : TypedResults.Ok(response);
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
        [PositiveId] long id, CatalogStore store, IServiceProvider services, CancellationToken cancellationToken)
    {
        var stored = services.GetService<SourceDatabase>() is { } source
            ? await source.ReadItemAsync(id, cancellationToken)
            : await store.ReadItemAsync(id, cancellationToken);
        return stored is null ? Problems.NotFound("id", $"Item {id} does not exist.") : TypedResults.Ok(ToResponse(stored));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeactivateItemAsync(
        [PositiveId] long id, CatalogStore store, DatabaseWrites writes, CatalogSync sync)
    {
        var stored = await writes.WithinTimeoutAsync((gate, token) => store.DeactivateItemAsync(id, gate, token));
        if (stored is null)
        {
            return Problems.NotFound("id", $"Item {id} does not exist.");
        }
        await sync.PublishAsync(stored.Item);
        return TypedResults.NoContent();
    }

    private static async Task<Results<Ok<UserResponse>, Created<UserResponse>>> PutUserAsync(
        [PositiveId] long id, UserUpsert body, CatalogStore store, DatabaseWrites writes, HybridCache cache, IOptionsMonitor<ApiOptions> options)
    {
        var settings = options.CurrentValue;
        var gender = ValidationServices.Canonical(body.Gender, settings.Genders);
        var age = ValidationServices.Canonical(body.Age ?? body.AgeGroup, settings.AgeGroups);
        var (row, created) = await writes.WithinTimeoutAsync((gate, token) => store.UpsertUserAsync(id, gender, age, body.GeoId, gate, token));
        // A new user's answer depends on demographics: drop what was cached for them.
        await cache.RemoveByTagAsync(RankedListCache.UserTag(id), CancellationToken.None);
        var user = new UserResponse(row.Id, row.Gender, row.AgeGroup, row.GeoId, row.CreatedAt, row.UpdatedAt);
        return created ? TypedResults.Created($"/users/{user.Id}", user) : TypedResults.Ok(user);
    }

    private static ItemResponse ToResponse(StoredItem stored) => new(stored.Item.Id, stored.Item.Title, stored.Item.Category,
        stored.Item.Tags, stored.Item.Price, stored.Item.GeoId, stored.Item.Active, stored.Item.CreatedAt, stored.UpdatedAt);
}
