using Microsoft.AspNetCore.Http.HttpResults;

namespace RecApp.Api.Validation;

/// <summary>
/// The API's error answers, all <c>application/problem+json</c>. Field errors use the validation-problem shape
/// (<c>errors: { "field": ["message"] }</c>) so a client can tell which field to fix.
/// </summary>
public static class Problems
{
    public const int RetryAfterSeconds = 5;

    public static ProblemHttpResult Field(string field, string message) =>
        Fields(new Dictionary<string, string[]> { [field] = [message] });

    public static ProblemHttpResult Fields(IDictionary<string, string[]> errors, int status = StatusCodes.Status400BadRequest) =>
        TypedResults.Problem(new HttpValidationProblemDetails(errors)
        {
            Status = status,
            Title = status == StatusCodes.Status413PayloadTooLarge ? "Request too large." : "The request is invalid.",
            Detail = string.Join(" ", errors.SelectMany(e => e.Value.Select(m => $"{e.Key}: {m}"))),
        });

    public static ProblemHttpResult NotFound(string field, string message) =>
        Fields(new Dictionary<string, string[]> { [field] = [message] }, StatusCodes.Status404NotFound);

    public static ProblemHttpResult TooLarge(string field, string message) =>
        Fields(new Dictionary<string, string[]> { [field] = [message] }, StatusCodes.Status413PayloadTooLarge);

    /// <summary>A dependency the request needs is down; the client should retry (the answer carries Retry-After).</summary>
    public static ProblemHttpResult Unavailable(HttpContext context, string detail)
    {
        context.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return TypedResults.Problem(detail, statusCode: StatusCodes.Status503ServiceUnavailable, title: "Service temporarily unavailable.");
    }
}

/// <summary>Collects field errors while a request is checked, then turns them into one problem answer.</summary>
public sealed class FieldErrors
{
    // Created on the first error: most requests have none.
    private Dictionary<string, List<string>>? _errors;

    public bool Any => _errors is not null;

    public void Add(string field, string message)
    {
        _errors ??= new(StringComparer.Ordinal);
        if (!_errors.TryGetValue(field, out var messages))
        {
            _errors[field] = messages = [];
        }
        messages.Add(message);
    }

    public ProblemHttpResult ToProblem() =>
        Problems.Fields((_errors ?? []).ToDictionary(e => e.Key, e => e.Value.ToArray()));
}
