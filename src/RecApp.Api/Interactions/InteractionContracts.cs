using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Validation;
using RecApp.Api.Validation;
using RecApp.Engine.Domain;
using RecApp.Data.Migrations;
using RecApp.Data.Source;

using RecApp.Data.Interactions;

namespace RecApp.Api.Interactions;

/// <summary>One event of <c>POST /interactions</c> (the body is one of these or an array of them).</summary>
public sealed record InteractionEvent(
    [property: Required(ErrorMessage = "Required."), PositiveId] long? UserId = null,
    [property: Required(ErrorMessage = "Required."), PositiveId] long? ItemId = null,
    [property: Required(ErrorMessage = "Required: one of view, click, like, add_to_cart, wishlist_add, purchase, rating.")] string? Type = null,
    double? Value = null,
    [property: StringLength(InteractionEvent.MaxEventIdLength, MinimumLength = 1, ErrorMessage = "Must be 1 to 128 characters."), NotBlank, StorableText]
    string? EventId = null,
    DateTimeOffset? OccurredAt = null) : IValidatableObject
{
    public const int MaxEventIdLength = 128;

    /// <summary>The earliest accepted <c>occurred_at</c>: older dates are typos or placeholders (0001-01-01), not events.</summary>
    public static readonly DateTimeOffset EarliestOccurredAt = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>How far ahead of this server's clock an <c>occurred_at</c> may be (client clocks drift).</summary>
    public static readonly TimeSpan FutureTolerance = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Ratings are whole or half stars from 1 to 5. The engine weighs a rating linearly (RatingWeight × value /
    /// RatingScale), and imported datasets (MovieLens) carry half stars, so 4.5 is meaningful; 4.7 is not a star value.
    /// </summary>
    public static bool IsStarRating(double? value) => value is >= 1 and <= 5 && Math.Round(value.Value * 2) == value.Value * 2;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!InteractionTypeNames.TryParse(Type!, out var type))
        {
            yield return new ValidationResult(
                $"Unknown type '{Type}'; expected one of {string.Join(", ", InteractionTypeNames.All)}.", [nameof(Type)]);
        }
        else if (type == InteractionType.Rating && !IsStarRating(Value))
        {
            yield return new ValidationResult("A rating needs a value from 1 to 5 in whole or half stars (1, 1.5, ..., 5).", [nameof(Value)]);
        }
        else if (type != InteractionType.Rating && Value is not null)
        {
            yield return new ValidationResult("Only a rating has a value.", [nameof(Value)]);
        }
        if (OccurredAt < EarliestOccurredAt)
        {
            yield return new ValidationResult("Must not be before 2000-01-01T00:00:00Z.", [nameof(OccurredAt)]);
        }
        else if (OccurredAt > DateTimeOffset.UtcNow + FutureTolerance)
        {
            yield return new ValidationResult("Must not be more than 5 minutes in the future.", [nameof(OccurredAt)]);
        }
    }

    /// <summary>The stored form; only for an event that passed validation.</summary>
    public NewInteraction ToValid(DateTime now)
    {
        InteractionTypeNames.TryParse(Type!, out var type);
        return new NewInteraction(UserId!.Value, ItemId!.Value, type, (float?)Value, EventId, OccurredAt?.UtcDateTime ?? now);
    }
}

/// <summary>
/// The body of <c>POST /interactions</c>: one event object or an array of them (read by
/// <see cref="InteractionBatchConverter"/>). Each event is checked by its own rules; in an array, errors are named
/// by index (<c>[1].type</c>).
/// </summary>
[JsonConverter(typeof(InteractionBatchConverter))]
public sealed class InteractionBatch(IReadOnlyList<InteractionEvent> events, bool isArray) : IValidatableObject
{
    // Validated below, with the index prefix the wire uses; the framework must not walk it a second time.
    // SkipValidation is marked experimental (ASP0029) in .NET 10, but it is the documented way to say so.
#pragma warning disable ASP0029
    [SkipValidation]
#pragma warning restore ASP0029
    public IReadOnlyList<InteractionEvent> Events { get; } = events;

    public bool IsArray { get; } = isArray;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Events.Count == 0)
        {
            yield return new ValidationResult("At least one event is required.", ["body"]);
        }
        if (Events.Count > InteractionEndpoints.MaxEventsPerRequest)
        {
            yield break; // answered 413 by the endpoint, without checking thousands of events first
        }
        for (var i = 0; i < Events.Count; i++)
        {
            var results = new List<ValidationResult>();
            Validator.TryValidateObject(Events[i], new ValidationContext(Events[i], validationContext, null), results, validateAllProperties: true);
            foreach (var result in results)
            {
                yield return new ValidationResult(result.ErrorMessage,
                    [.. result.MemberNames.Select(m => IsArray ? $"[{i}].{m}" : m)]);
            }
        }
    }
}

/// <summary>
/// Reads one event or an array of them. A <c>null</c> element is refused with its index as the path (<c>$[0]</c>),
/// and an element's own error keeps its index (<c>$[1].user_id</c>), so the problem names the field.
/// </summary>
public sealed class InteractionBatchConverter : JsonConverter<InteractionBatch>
{
    public override InteractionBatch Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var eventInfo = (System.Text.Json.Serialization.Metadata.JsonTypeInfo<InteractionEvent>)options.GetTypeInfo(typeof(InteractionEvent));
        switch (reader.TokenType)
        {
            case JsonTokenType.StartObject:
                return new InteractionBatch([JsonSerializer.Deserialize(ref reader, eventInfo)!], isArray: false);
            case JsonTokenType.StartArray:
                var events = new List<InteractionEvent>();
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    var path = $"$[{events.Count}]";
                    if (reader.TokenType != JsonTokenType.StartObject)
                    {
                        throw new ClientJsonException("Must be an event object.", path);
                    }
                    try
                    {
                        events.Add(JsonSerializer.Deserialize(ref reader, eventInfo)!);
                    }
                    catch (JsonException ex) when (ex is not ClientJsonException)
                    {
                        throw new ClientJsonException(JsonErrors.Describe(ex), path + (ex.Path ?? "$")[1..], ex);
                    }
                }
                return new InteractionBatch(events, isArray: true);
            default:
                throw new ClientJsonException("The body must be one event object or an array of them.", "$");
        }
    }

    public override void Write(Utf8JsonWriter writer, InteractionBatch value, JsonSerializerOptions options) =>
        JsonSerializer.Serialize(writer, value.Events, options);
}

/// <summary><c>POST /feedback</c> (the two-layer caching design's record_feedback): a rating from 1 to 5 stars, whole stars only.</summary>
public sealed record FeedbackRequest(
    [property: Required(ErrorMessage = "Required."), PositiveId] long? UserId = null,
    [property: Required(ErrorMessage = "Required."), PositiveId] long? ItemId = null,
    [property: Required(ErrorMessage = "Required: an integer from 1 to 5."), Range(1, 5, ErrorMessage = "Must be an integer from 1 to 5.")] int? Rating = null,
    [property: StringLength(InteractionEvent.MaxEventIdLength, MinimumLength = 1, ErrorMessage = "Must be 1 to 128 characters."), NotBlank, StorableText]
    string? EventId = null)
{
    public NewInteraction ToValid(DateTime now) => new(UserId!.Value, ItemId!.Value, InteractionType.Rating, Rating!.Value, EventId, now);
}

/// <summary>Stored and durable: <c>accepted</c> new events, <c>duplicates</c> already stored under their event_id.</summary>
public sealed record InteractionsAccepted(int Accepted, int Duplicates);
