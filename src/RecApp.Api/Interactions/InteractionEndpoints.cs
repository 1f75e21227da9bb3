using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using RecApp.Api.Validation;
using RecApp.Recommendations.Data;

namespace RecApp.Api.Interactions;

/// <summary>The write side users call: interaction events and ratings. 202 means stored durably.</summary>
public static class InteractionEndpoints
{
    public const int MaxEventsPerRequest = 1000;
    private const int MaxEventIdLength = 128;
    private const int MaxReportedErrors = 50;
    private static readonly TimeSpan s_futureTolerance = TimeSpan.FromMinutes(5);

    public static IEndpointRouteBuilder MapInteractionEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("").WithTags("Interactions").RequireRateLimiting(ClientRateLimiting.Policy);
        group.MapPost("/interactions", InteractionsAsync)
            .Accepts<InteractionEvent[]>("application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .WithSummary("Records one event or an array of up to 1,000; answers once they are stored.");
        group.MapPost("/feedback", FeedbackAsync)
            .Accepts<FeedbackRequest>("application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .WithSummary("Records a 1-5 rating of an item by a user.");
        return app;
    }

    private static async Task<Results<Accepted<InteractionsAccepted>, ProblemHttpResult>> InteractionsAsync(
        HttpContext context, InteractionWriter writer)
    {
        var (events, problem) = await JsonBody.ReadAsync(context.Request, ParseOneOrMany);
        if (problem is not null)
        {
            return problem;
        }
        if (events!.Length == 0)
        {
            return Problems.Field("body", "At least one event is required.");
        }
        if (events.Length > MaxEventsPerRequest)
        {
            return Problems.TooLarge("body", $"At most {MaxEventsPerRequest} events per request, got {events.Length}.");
        }

        var errors = new FieldErrors();
        var now = DateTime.UtcNow;
        var valid = new ValidInteraction[events.Length];
        for (var i = 0; i < events.Length; i++)
        {
            valid[i] = Check(events[i], events.Length == 1 ? "" : $"[{i}].", now, errors);
        }
        if (errors.Any)
        {
            return errors.ToProblem();
        }
        return await StoreAsync(writer, valid, indexed: events.Length > 1);
    }

    private static async Task<Results<Accepted<InteractionsAccepted>, ProblemHttpResult>> FeedbackAsync(
        HttpContext context, InteractionWriter writer)
    {
        var (feedback, problem) = await JsonBody.ReadAsync(context.Request, ApiJsonContext.Default.FeedbackRequest);
        if (problem is not null)
        {
            return problem;
        }
        var errors = new FieldErrors();
        if (feedback!.Rating is null)
        {
            errors.Add("rating", "Required: an integer from 1 to 5.");
        }
        else if (feedback.Rating is < 1 or > 5)
        {
            errors.Add("rating", "Must be an integer from 1 to 5.");
        }
        var valid = Check(
            new InteractionEvent(feedback.UserId, feedback.ItemId, "rating", feedback.Rating ?? 1, feedback.EventId),
            "", DateTime.UtcNow, errors);
        if (errors.Any)
        {
            return errors.ToProblem();
        }
        return await StoreAsync(writer, [valid], indexed: false);
    }

    private static async Task<Results<Accepted<InteractionsAccepted>, ProblemHttpResult>> StoreAsync(
        InteractionWriter writer, ValidInteraction[] events, bool indexed)
    {
        // Not the request's token: once the write is under way, a client hanging up must not leave it half-known.
        var (accepted, unknown) = await writer.WriteAsync(events, CancellationToken.None);
        if (unknown is null)
        {
            return TypedResults.Accepted((string?)null, accepted!);
        }
        var errors = new FieldErrors();
        var missing = unknown.ItemIds.ToHashSet();
        for (var i = 0; i < events.Length && i < MaxReportedErrors; i++)
        {
            if (missing.Contains(events[i].ItemId))
            {
                errors.Add(indexed ? $"[{i}].item_id" : "item_id", $"Item {events[i].ItemId} does not exist.");
            }
        }
        return errors.ToProblem();
    }

    private static ValidInteraction Check(InteractionEvent e, string prefix, DateTime now, FieldErrors errors)
    {
        if (e.UserId is not > 0)
        {
            errors.Add(prefix + "user_id", e.UserId is null ? "Required." : "Must be a positive integer id.");
        }
        if (e.ItemId is not > 0)
        {
            errors.Add(prefix + "item_id", e.ItemId is null ? "Required." : "Must be a positive integer id.");
        }
        var type = InteractionType.View;
        if (e.Type is null)
        {
            errors.Add(prefix + "type", "Required: one of " + string.Join(", ", InteractionTypeNames.All) + ".");
        }
        else if (!InteractionTypeNames.TryParse(e.Type, out type))
        {
            errors.Add(prefix + "type", $"Unknown type '{e.Type}'; expected one of {string.Join(", ", InteractionTypeNames.All)}.");
        }
        else if (type == InteractionType.Rating && e.Value is not (>= 1 and <= 5))
        {
            errors.Add(prefix + "value", "A rating needs a value from 1 to 5.");
        }
        else if (type != InteractionType.Rating && e.Value is not null)
        {
            errors.Add(prefix + "value", "Only a rating has a value.");
        }
        if (e.EventId is { } eventId && (eventId.Length is 0 or > MaxEventIdLength || string.IsNullOrWhiteSpace(eventId)))
        {
            errors.Add(prefix + "event_id", $"Must be 1 to {MaxEventIdLength} characters.");
        }
        var occurredAt = e.OccurredAt?.UtcDateTime ?? now;
        if (occurredAt > now + s_futureTolerance)
        {
            errors.Add(prefix + "occurred_at", "Must not be in the future.");
        }
        return new ValidInteraction(e.UserId ?? 0, e.ItemId ?? 0, type, (float?)e.Value, e.EventId, occurredAt);
    }

    /// <summary>The body is one event object or an array of them.</summary>
    private static (InteractionEvent[]? Value, ProblemHttpResult? Problem) ParseOneOrMany(ReadOnlySequence<byte> body) =>
        JsonBody.FirstToken(body) == JsonTokenType.StartArray
            ? JsonBody.Parse(body, ApiJsonContext.Default.InteractionEventArray)
            : JsonBody.Parse(body, ApiJsonContext.Default.InteractionEvent) switch
            {
                ({ } one, _) => ([one], null),
                (_, var problem) => (null, problem),
            };
}
