using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;

namespace RecApp.Api.Validation;

/// <summary>Section <c>RateLimiting</c>: a token bucket per client.</summary>
public sealed class RateLimitingOptions
{
    public const string Section = "RateLimiting";

    public bool Enabled { get; set; } = true;

    /// <summary>Sustained requests per second per client.</summary>
    public int PermitsPerSecond { get; set; } = 1000;

    /// <summary>Burst allowance: the bucket's size.</summary>
    public int Burst { get; set; } = 2000;

    /// <summary>Header naming the client (an API key); without it the client is its remote IP address.</summary>
    public string ClientHeader { get; set; } = "X-Api-Key";
}

/// <summary>The per-client limiter on every API route (not on /health, /alive or the docs).</summary>
public static class ClientRateLimiting
{
    public const string Policy = "per-client";

    public static IServiceCollection AddClientRateLimiting(this IServiceCollection services, IConfiguration configuration)
    {
        var options = configuration.GetSection(RateLimitingOptions.Section).Get<RateLimitingOptions>() ?? new RateLimitingOptions();
        if (options.PermitsPerSecond < 1 || options.Burst < 1)
        {
            throw new InvalidOperationException("RateLimiting:PermitsPerSecond and RateLimiting:Burst must be at least 1.");
        }
        services.AddRateLimiter(limiter =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.OnRejected = async (rejected, cancellationToken) =>
            {
                var context = rejected.HttpContext;
                var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait)
                    ? Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds))
                    : 1;
                context.Response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
                await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
                {
                    HttpContext = context,
                    ProblemDetails =
                    {
                        Status = StatusCodes.Status429TooManyRequests,
                        Title = "Too many requests.",
                        Detail = $"This client is limited to {options.PermitsPerSecond} requests per second; retry after {retryAfter} s.",
                    },
                });
            };
            limiter.AddPolicy(Policy, context => options.Enabled
                ? RateLimitPartition.GetTokenBucketLimiter(ClientOf(context, options.ClientHeader), _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = options.Burst,
                    TokensPerPeriod = options.PermitsPerSecond,
                    ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                    QueueLimit = 0,
                    AutoReplenishment = true,
                })
                : RateLimitPartition.GetNoLimiter(""));
        });
        return services;
    }

    private static string ClientOf(HttpContext context, string header) =>
        context.Request.Headers[header] is { Count: > 0 } key && !string.IsNullOrEmpty(key[0])
            ? "key:" + key[0]
            : "ip:" + (context.Connection.RemoteIpAddress?.ToString() ?? "unknown");
}
