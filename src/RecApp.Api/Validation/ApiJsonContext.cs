using System.Text.Json.Serialization;
using RecApp.Api.Admin;
using RecApp.Api.Catalog;
using RecApp.Api.Interactions;
using RecApp.Api.Recommendations;
using RecApp.Api.Stats;

namespace RecApp.Api.Validation;

/// <summary>Source-generated (de)serialization of every contract, snake_case on the wire as in the service contract.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    NumberHandling = JsonNumberHandling.Strict)]
[JsonSerializable(typeof(PopularRequest))]
[JsonSerializable(typeof(PersonalizedRequest))]
[JsonSerializable(typeof(BatchRequest))]
[JsonSerializable(typeof(RecommendationResponse))]
[JsonSerializable(typeof(BatchResponse))]
[JsonSerializable(typeof(InteractionEvent))]
[JsonSerializable(typeof(InteractionEvent[]))]
[JsonSerializable(typeof(InteractionBatch))]
[JsonSerializable(typeof(FeedbackRequest))]
[JsonSerializable(typeof(InteractionsAccepted))]
[JsonSerializable(typeof(ItemUpsert))]
[JsonSerializable(typeof(ItemResponse))]
[JsonSerializable(typeof(UserUpsert))]
[JsonSerializable(typeof(UserResponse))]
[JsonSerializable(typeof(StatsResponse))]
[JsonSerializable(typeof(RefreshAccepted))]
[JsonSerializable(typeof(InvalidateRequest))]
[JsonSerializable(typeof(CacheInvalidated))]
[JsonSerializable(typeof(CacheStats))]
public sealed partial class ApiJsonContext : JsonSerializerContext;
