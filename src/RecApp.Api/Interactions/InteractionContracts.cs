namespace RecApp.Api.Interactions;

/// <summary>One event of <c>POST /interactions</c> (the body is one of these or an array of them).</summary>
public sealed record InteractionEvent(
    long? UserId = null, long? ItemId = null, string? Type = null, double? Value = null, string? EventId = null,
    DateTimeOffset? OccurredAt = null);

/// <summary><c>POST /feedback</c> (seed 000's record_feedback): a 1-5 rating.</summary>
public sealed record FeedbackRequest(long? UserId = null, long? ItemId = null, int? Rating = null, string? EventId = null);

/// <summary>Stored and durable: <c>accepted</c> new events, <c>duplicates</c> already stored under their event_id.</summary>
public sealed record InteractionsAccepted(int Accepted, int Duplicates);
