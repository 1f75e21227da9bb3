using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Npgsql;

namespace RecApp.Api.Validation;

/// <summary>
/// Last line for what the endpoints do not answer themselves: a request the server could not read (the
/// framework's 400/413) keeps its status, a value PostgreSQL rejects as data (class 22) is a 400, PostgreSQL being unreachable is a 503 with Retry-After (nothing
/// was acknowledged, so the client retries), anything else is a 500 problem without internals.
/// </summary>
internal sealed class ApiExceptionHandler(
    IProblemDetailsService problems, DatabaseOutageLog outages, ILogger<ApiExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        int status;
        string title;
        string? detail = null;
        if (exception is BadHttpRequestException bad)
        {
            // The framework's binding: a malformed or mistyped body, a route or query value of the wrong type.
            logger.LogDebug(exception, "Request to {Path} could not be read.", context.Request.Path);
            var field = (bad.InnerException as JsonException ?? exception as JsonException) is { } json
                ? (Name: JsonErrors.FieldName(json.Path), Message: JsonErrors.Describe(json))
                : JsonErrors.BoundParameter(bad.Message) is { } parameter
                    ? (Name: parameter, Message: Describe(bad))
                    : default;
            if (field.Name is not null && bad.StatusCode == StatusCodes.Status400BadRequest)
            {
                return await WriteAsync(context, exception, new HttpValidationProblemDetails(
                    new Dictionary<string, string[]> { [field.Name] = [field.Message] })
                {
                    Status = StatusCodes.Status400BadRequest,
                    Title = "The request is invalid.",
                    Detail = $"{field.Name}: {field.Message}",
                });
            }
            (status, title, detail) = bad.StatusCode == StatusCodes.Status413PayloadTooLarge
                ? (bad.StatusCode, "Request too large.", $"The request body is larger than {ApiEdgeExtensions.MaxBodyBytes} bytes.")
                : (bad.StatusCode, "The request could not be read.", bad.Message);
        }
        else if (exception is Recommendations.ModelNotReadyException)
        {
            logger.LogInformation("{Path} answered 503: {Reason}", context.Request.Path, exception.Message);
            context.Response.Headers.RetryAfter = Problems.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            (status, title, detail) = (StatusCodes.Status503ServiceUnavailable, "The model is not ready yet.", exception.Message);
        }
        else if (IsDatabaseOutage(exception))
        {
            outages.Failed(exception, $"{context.Request.Method} {context.Request.Path} answered 503"); // one warning per outage, not per request
            context.Response.Headers.RetryAfter = Problems.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            (status, title, detail) = (StatusCodes.Status503ServiceUnavailable, "Service temporarily unavailable.", OutageDetail(context, exception));
        }
        else if (IsRejectedData(exception))
        {
            // Validation should have caught it; still a client's data, so never a 500.
            logger.LogWarning(exception, "PostgreSQL rejected client data while serving {Path}.", context.Request.Path);
            (status, title, detail) = (StatusCodes.Status400BadRequest, "The request is invalid.",
                "A value in the request cannot be stored.");
        }
        else
        {
            // Handled here, the framework no longer logs it (.NET 10): this is the one record of the fault.
            logger.LogError(exception, "Unhandled error while serving {Method} {Path}.", context.Request.Method, context.Request.Path);
            (status, title) = (StatusCodes.Status500InternalServerError, "An unexpected error occurred.");
        }

        return await WriteAsync(context, exception, new ProblemDetails { Status = status, Title = title, Detail = detail });
    }

    private async ValueTask<bool> WriteAsync(HttpContext context, Exception exception, ProblemDetails problem)
    {
        context.Response.StatusCode = problem.Status!.Value;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            Exception = exception,
            ProblemDetails = problem,
        });
    }

    /// <summary>What a client may assume about its request when the database failed under it, and how to retry.</summary>
    internal static string OutageDetail(HttpContext context, Exception exception)
    {
        if (HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method))
        {
            return "The database is unreachable. Retry later.";
        }
        return exception switch
        {
            // The commit was sent and its answer lost: the events may be stored. event_id makes the retry safe.
            Interactions.InteractionsNotConfirmedException { MayBeStored: true } =>
                "The database connection failed while the events were being committed: they may or may not have been stored. " +
                "Retry the same request with the same event_id values; events already stored are counted as duplicates, " +
                "not stored twice (an event sent without an event_id cannot be recognized and may be stored twice).",
            Interactions.InteractionsNotConfirmedException =>
                "The database is unreachable; nothing was stored. Retry later, with the same event_id values.",
            _ => "The database is unreachable; the change was not confirmed and may not have been stored. Retry later; " +
                 "repeating the request is safe.",
        };
    }

    /// <summary>The binder's message without the .NET type it names: "Failed to bind parameter "long id" from "abc"."</summary>
    private static string Describe(BadHttpRequestException bad) =>
        bad.Message.StartsWith("Required", StringComparison.Ordinal) ? "Required." : "The value has the wrong type or is out of range.";

    /// <summary>A statement rejected for its data (SQLSTATE class 22: data exception), which only client values can cause.</summary>
    internal static bool IsRejectedData(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is PostgresException { IsTransient: false } postgres)
            {
                return postgres.SqlState.StartsWith("22", StringComparison.Ordinal);
            }
        }
        return false;
    }

    /// <summary>A connection-level failure (or a transient server state), not a statement the server rejected.</summary>
    internal static bool IsDatabaseOutage(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case PostgresException postgres:
                    return postgres.IsTransient;
                case NpgsqlException:
                case System.Net.Sockets.SocketException:
                case TimeoutException:
                    return true;
            }
        }
        return false;
    }
}
