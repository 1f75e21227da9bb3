using Microsoft.AspNetCore.Http.HttpResults;
using RecApp.Api.Validation;

using RecApp.Data.Interactions;

namespace RecApp.Api.Interactions;

/// <summary>The write side users call: interaction events and ratings. 202 means stored durably.</summary>
public static class InteractionEndpoints
{
    public const int MaxEventsPerRequest = 1000;
    private const int MaxReportedErrors = 50;

    public static IEndpointRouteBuilder MapInteractionEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("").WithTags("Interactions").RequireRateLimiting(ClientRateLimiting.Policy)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        group.MapPost("/interactions", InteractionsAsync)
            .Accepts<InteractionEvent[]>("application/json")
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .WithSummary("Records one event or an array of up to 1,000; answers once they are stored.");
        group.MapPost("/feedback", FeedbackAsync)
            .WithSummary("Records a 1-5 rating of an item by a user.");
        return app;
    }

    private static Task<Results<Accepted<InteractionsAccepted>, ProblemHttpResult>> InteractionsAsync(
        InteractionBatch body, InteractionWriter writer)
    {
        if (body.Events.Count > MaxEventsPerRequest)
        {
            return Task.FromResult<Results<Accepted<InteractionsAccepted>, ProblemHttpResult>>(
                Problems.TooLarge("body", $"At most {MaxEventsPerRequest} events per request, got {body.Events.Count}."));
        }
        var now = DateTime.UtcNow;
        return StoreAsync(writer, [.. body.Events.Select(e => e.ToValid(now))], indexed: body.IsArray);
    }

    private static Task<Results<Accepted<InteractionsAccepted>, ProblemHttpResult>> FeedbackAsync(
        FeedbackRequest body, InteractionWriter writer) =>
        StoreAsync(writer, [body.ToValid(DateTime.UtcNow)], indexed: false);

    private static async Task<Results<Accepted<InteractionsAccepted>, ProblemHttpResult>> StoreAsync(
        InteractionWriter writer, NewInteraction[] events, bool indexed)
    {
        // Not the request's token: once the write is under way, a client hanging up must not leave it half-known
        // (the writer bounds it by Database:WriteTimeout itself).
        var (accepted, unknown) = await writer.WriteAsync(events);
        if (unknown is null)
        {
            return TypedResults.Accepted((string?)null, accepted!);
        }
        var missing = unknown.ItemIds.ToHashSet();
        var errors = new Dictionary<string, string[]>();
        for (var i = 0; i < events.Length && errors.Count < MaxReportedErrors; i++)
        {
            if (missing.Contains(events[i].ItemId))
            {
                errors[indexed ? $"[{i}].item_id" : "item_id"] = [$"Item {events[i].ItemId} does not exist."];
            }
        }
        return Problems.Fields(errors);
    }
}
