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
        string id, HttpContext context, RecDbContext db, CatalogSync sync, CancellationToken cancellationToken)
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
        if (string.IsNullOrWhiteSpace(body.Category) || body.Category.Length > MaxCategoryLength)
        {
            errors.Add("category", $"Required: 1 to {MaxCategoryLength} characters.");
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
        if (errors.Any)
        {
            return errors.ToProblem();
        }

        var now = DateTime.UtcNow;
        var item = await db.Items.FindAsync([itemId], cancellationToken);
        var created = item is null;
        if (item is null)
        {
            item = new ItemRecord { Id = itemId, Title = "", Category = "", CreatedAt = now };
            db.Items.Add(item);
        }
        item.Title = body.Title!.Trim();
        item.Category = body.Category!.Trim();
        item.Tags = body.Tags ?? [];
        item.Price = Math.Round(body.Price!.Value, 2);
        item.GeoId = body.GeoId;
        item.Active = body.Active ?? true;
        item.UpdatedAt = now;
        await SaveDurablyAsync(db);
        await sync.PublishAsync(ToCatalogItem(item));

        var response = ToResponse(item);
        return created ? TypedResults.Created($"/items/{item.Id}", response) : TypedResults.Ok(response);
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
        string id, RecDbContext db, CatalogSync sync, CancellationToken cancellationToken)
    {
        var errors = new FieldErrors();
        var itemId = QueryValues.Id(id, "id", errors);
        if (errors.Any)
        {
            return errors.ToProblem();
        }
        var item = await db.Items.FindAsync([itemId], cancellationToken);
        if (item is null)
        {
            return Problems.NotFound("id", $"Item {itemId} does not exist.");
        }
        item.Active = false;
        item.UpdatedAt = DateTime.UtcNow;
        await SaveDurablyAsync(db);
        await sync.PublishAsync(ToCatalogItem(item));
        return TypedResults.NoContent();
    }

    private static async Task<Results<Ok<UserResponse>, Created<UserResponse>, ProblemHttpResult>> PutUserAsync(
        string id, HttpContext context, RecDbContext db, HybridCache cache, IOptionsMonitor<ApiOptions> options,
        CancellationToken cancellationToken)
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
        var ageGroup = RequestChecks.Known(body.AgeGroup, settings.AgeGroups, "age_group", errors);
        if (body.GeoId <= 0)
        {
            errors.Add("geo_id", "Must be a positive integer id.");
        }
        if (errors.Any)
        {
            return errors.ToProblem();
        }

        var now = DateTime.UtcNow;
        var user = await db.Users.FindAsync([userId], cancellationToken);
        var created = user is null;
        if (user is null)
        {
            user = new UserRecord { Id = userId, CreatedAt = now };
            db.Users.Add(user);
        }
        user.Gender = gender;
        user.AgeGroup = ageGroup;
        user.GeoId = body.GeoId;
        user.UpdatedAt = now;
        await SaveDurablyAsync(db);
        // A new user's answer depends on demographics: drop what was cached for them.
        await cache.RemoveByTagAsync(RankedListCache.UserTag(userId), CancellationToken.None);

        var response = new UserResponse(user.Id, user.Gender, user.AgeGroup, user.GeoId, user.CreatedAt, user.UpdatedAt);
        return created ? TypedResults.Created($"/users/{user.Id}", response) : TypedResults.Ok(response);
    }

    /// <summary>Commits with synchronous_commit on, whatever the server's default: an answer means the change is on disk.</summary>
    private static async Task SaveDurablyAsync(RecDbContext db)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(CancellationToken.None);
        await db.Database.ExecuteSqlRawAsync("SET LOCAL synchronous_commit TO on", CancellationToken.None);
        await db.SaveChangesAsync(CancellationToken.None);
        await transaction.CommitAsync(CancellationToken.None);
    }

    private static CatalogItem ToCatalogItem(ItemRecord item) =>
        new(item.Id, item.Title, item.Category, item.Tags, item.Price, item.GeoId, item.Active, item.CreatedAt);

    private static ItemResponse ToResponse(ItemRecord item) =>
        new(item.Id, item.Title, item.Category, item.Tags, item.Price, item.GeoId, item.Active, item.CreatedAt, item.UpdatedAt);
}
