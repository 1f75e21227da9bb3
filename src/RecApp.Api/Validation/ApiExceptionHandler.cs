using Microsoft.AspNetCore.Diagnostics;
using Npgsql;

namespace RecApp.Api.Validation;

/// <summary>
/// Last line for what the endpoints do not answer themselves: a request the server could not read (the
/// framework's 400/413) keeps its status, PostgreSQL being unreachable is a 503 with Retry-After (nothing was
/// acknowledged, so the client retries), anything else is a 500 problem without internals.
/// </summary>
internal sealed class ApiExceptionHandler(IProblemDetailsService problems, ILogger<ApiExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        int status;
        string title;
        string? detail = null;
        if (exception is BadHttpRequestException bad)
        {
            (status, title, detail) = (bad.StatusCode, "The request could not be read.", bad.Message);
        }
        else if (IsDatabaseOutage(exception))
        {
            logger.LogWarning(exception, "PostgreSQL unreachable while serving {Path}.", context.Request.Path);
            context.Response.Headers.RetryAfter = Problems.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            (status, title, detail) = (StatusCodes.Status503ServiceUnavailable, "Service temporarily unavailable.",
                "The database is unreachable; nothing was stored. Retry later.");
        }
        else
        {
            (status, title) = (StatusCodes.Status500InternalServerError, "An unexpected error occurred.");
        }

        context.Response.StatusCode = status;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            Exception = exception,
            ProblemDetails = { Status = status, Title = title, Detail = detail },
        });
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
