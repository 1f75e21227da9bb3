using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;

namespace RecApp.Api.Validation;

/// <summary>
/// The API's error answers, all <c>application/problem+json</c>. Field errors use the validation-problem shape
/// (<c>errors: { "field": ["message"] }</c>) so a client can tell which field to fix; field names are the JSON
/// (snake_case) names, whoever produced the error (<see cref="WireFieldNames"/>).
/// </summary>
public static class Problems
{
    /// <summary>Retry-After of a 503 (sent by <see cref="ApiExceptionHandler"/>, the one place that answers 503).</summary>
    public const int RetryAfterSeconds = 5;

    public static ProblemHttpResult Field(string field, string message) =>
        Fields(new Dictionary<string, string[]> { [field] = [message] });

    public static ProblemHttpResult Fields(IDictionary<string, string[]> errors, int status = StatusCodes.Status400BadRequest) =>
        TypedResults.Problem(new HttpValidationProblemDetails(errors)
        {
            Status = status,
            Title = status switch
            {
                StatusCodes.Status413PayloadTooLarge => "Request too large.",
                StatusCodes.Status404NotFound => "Not found.",
                _ => "The request is invalid.",
            },
            Detail = string.Join(" ", errors.SelectMany(e => e.Value.Select(m => $"{e.Key}: {m}"))),
        });

    public static ProblemHttpResult NotFound(string field, string message) =>
        Fields(new Dictionary<string, string[]> { [field] = [message] }, StatusCodes.Status404NotFound);

    public static ProblemHttpResult TooLarge(string field, string message) =>
        Fields(new Dictionary<string, string[]> { [field] = [message] }, StatusCodes.Status413PayloadTooLarge);
}

/// <summary>
/// Turns the names the framework's validation reports (CLR member paths such as <c>Filters.PriceFrom</c> or
/// <c>UserIds[1]</c>) into the names a client sent (<c>filters.price_from</c>, <c>user_ids[1]</c>). Every contract
/// takes its JSON names from the one naming policy of <see cref="ApiJsonContext"/>, so converting each segment with
/// that policy gives the wire name; names already on the wire are unchanged.
/// </summary>
public static class WireFieldNames
{
    private static readonly JsonNamingPolicy s_policy = JsonNamingPolicy.SnakeCaseLower;

    public static string Convert(string key)
    {
        if (key.Length == 0)
        {
            return "body";
        }
        var segments = key.Split('.');
        for (var i = 0; i < segments.Length; i++)
        {
            var segment = segments[i];
            var index = segment.IndexOf('[', StringComparison.Ordinal);
            segments[i] = index < 0 ? s_policy.ConvertName(segment) : s_policy.ConvertName(segment[..index]) + segment[index..];
        }
        return string.Join('.', segments);
    }

    /// <summary>Renames every key of a validation problem in place (the framework's and ours alike).</summary>
    public static void Apply(HttpValidationProblemDetails problem)
    {
        if (problem.Errors.Keys.All(k => Convert(k) == k))
        {
            return;
        }
        var renamed = new Dictionary<string, string[]>(StringComparer.Ordinal);
        foreach (var (key, messages) in problem.Errors)
        {
            var name = Convert(key);
            renamed[name] = renamed.TryGetValue(name, out var existing) ? [.. existing, .. messages] : messages;
        }
        problem.Errors.Clear();
        foreach (var (key, messages) in renamed)
        {
            problem.Errors[key] = messages;
        }
    }
}

/// <summary>The <c>type</c> of a problem whose status the framework has no link for: the RFC section defining the status.</summary>
public static class ProblemTypes
{
    public static string For(int status) => status switch
    {
        StatusCodes.Status429TooManyRequests => "https://www.rfc-editor.org/rfc/rfc6585#section-4",
        _ => "https://www.rfc-editor.org/rfc/rfc9110#section-15",
    };
}
