namespace RecApp.Api.Admin;

public sealed record RefreshRequested(long Id, string Job);

/// <summary><c>POST /admin/refresh/{job}</c>: the queued requests the Refresher will pick up.</summary>
public sealed record RefreshAccepted(RefreshRequested[] Requests);

/// <summary><c>POST /admin/cache/invalidate</c>: at least one of the three.</summary>
public sealed record InvalidateRequest(long? UserId = null, long? ItemId = null, string? Tag = null);

public sealed record CacheInvalidated(string[] Tags);
