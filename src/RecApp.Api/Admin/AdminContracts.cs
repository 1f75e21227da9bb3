namespace RecApp.Api.Admin;

public sealed record RefreshRequested(long Id, string Job);

/// <summary><c>POST /admin/refresh/{job}</c>: the queued requests the Refresher will pick up.</summary>
public sealed record RefreshAccepted(RefreshRequested[] Requests);

/// <summary><c>POST /admin/cache/invalidate</c>: at least one of the three.</summary>
public sealed record InvalidateRequest(long? UserId = null, long? ItemId = null, string? Tag = null);

/// <summary>
/// The tags evicted. <c>Warning</c> is set when the eviction succeeded but a follow-up did not (the item could not be
/// re-read because the database is unreachable; the model's poll applies it later).
/// </summary>
public sealed record CacheInvalidated(string[] Tags, string? Warning = null);
