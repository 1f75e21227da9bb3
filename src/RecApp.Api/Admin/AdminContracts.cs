using System.ComponentModel.DataAnnotations;
using RecApp.Api.Recommendations;
using RecApp.Api.Validation;

namespace RecApp.Api.Admin;

public sealed record RefreshRequested(long Id, string Job);

/// <summary><c>POST /admin/refresh/{job}</c>: the queued requests the Refresher will pick up.</summary>
public sealed record RefreshAccepted(RefreshRequested[] Requests);

/// <summary><c>POST /admin/cache/invalidate</c>: at least one of the three.</summary>
public sealed record InvalidateRequest(
    [property: PositiveId] long? UserId = null,
    [property: PositiveId] long? ItemId = null,
    [property: NotBlank, StringLength(200, ErrorMessage = "At most 200 characters."), StorableText] string? Tag = null)
    : IValidatableObject
{
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (UserId is null && ItemId is null && Tag is null)
        {
            yield return new ValidationResult("Name a user_id, an item_id or a tag.", ["body"]);
        }
    }

    /// <summary>The cache tags this request evicts.</summary>
    public List<string> Tags()
    {
        var tags = new List<string>();
        if (UserId is { } userId)
        {
            tags.Add(RankedListCache.UserTag(userId));
        }
        if (ItemId is { } itemId)
        {
            tags.Add(RankedListCache.ItemTag(itemId));
        }
        if (Tag is { } tag)
        {
            tags.Add(tag);
        }
        return tags;
    }
}

/// <summary>
/// The tags evicted. <c>Warning</c> is set when the eviction succeeded but a follow-up did not (the item could not be
/// re-read because the database is unreachable; the model's poll applies it later).
/// </summary>
public sealed record CacheInvalidated(string[] Tags, string? Warning = null);
