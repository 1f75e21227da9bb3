using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace RecApp.Api.Validation;

/// <summary>Section <c>RateLimiting</c>: a token bucket per client, and a stricter one per address for the admin routes.</summary>
public sealed class RateLimitingOptions
{
    public const string Section = "RateLimiting";

    /// <summary>The admin budget per client address: for the admin routes, and for wrong keys on any admin-key route.</summary>
    public TokenBucketRateLimiterOptions AdminBucket() => new()
    {
        TokenLimit = AdminBurst,
        TokensPerPeriod = AdminPermits,
        ReplenishmentPeriod = AdminReplenishmentPeriod,
        QueueLimit = 0,
        AutoReplenishment = true,
    };

    public bool Enabled { get; set; } = true;

    /// <summary>Sustained requests per second per client (added every <see cref="ReplenishmentPeriod"/>).</summary>
    [Range(1, int.MaxValue, ErrorMessage = "RateLimiting:PermitsPerSecond must be at least 1.")]
    public int PermitsPerSecond { get; set; } = 1000;

    /// <summary>
    /// How often <see cref="PermitsPerSecond"/> tokens are added back. One second in production; a test sets an hour
    /// so that no token can come back while it runs, however slow the machine.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "365.00:00:00", ErrorMessage = "RateLimiting:ReplenishmentPeriod must be positive.")]
    public TimeSpan ReplenishmentPeriod { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Burst allowance: the bucket's size.</summary>
    [Range(1, int.MaxValue, ErrorMessage = "RateLimiting:Burst must be at least 1.")]
    public int Burst { get; set; } = 2000;

    /// <summary>Header naming the client (an API key).</summary>
    public string ClientHeader { get; set; } = "X-Api-Key";

    /// <summary>
    /// API keys that get a bucket of their own. Any other client, with an unknown key or none, is limited by its
    /// remote IP address: a made-up header value must not buy a fresh bucket.
    /// </summary>
    public string[] ClientKeys { get; set; } = [];

    /// <summary>
    /// Admin requests per client IP address added back every <see cref="AdminReplenishmentPeriod"/>. Checked before
    /// the admin key, so guessing keys costs the same budget as using one.
    /// </summary>
    [Range(1, int.MaxValue, ErrorMessage = "RateLimiting:AdminPermits must be at least 1.")]
    public int AdminPermits { get; set; } = 10;

    [Range(typeof(TimeSpan), "00:00:00.001", "365.00:00:00", ErrorMessage = "RateLimiting:AdminReplenishmentPeriod must be positive.")]
    public TimeSpan AdminReplenishmentPeriod { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>The admin bucket's size: this many admin requests at once, then <see cref="AdminPermits"/> per period.</summary>
    [Range(1, int.MaxValue, ErrorMessage = "RateLimiting:AdminBurst must be at least 1.")]
    public int AdminBurst { get; set; } = 20;
}

/// <summary>The per-client limiter on every API route (not on /health, /alive or the docs).</summary>
public static class ClientRateLimiting
{
    public const string Policy = "per-client";

    /// <summary>The admin routes' limiter, keyed by remote address only (an admin caller has no client key).</summary>
    public const string AdminPolicy = "admin";

    /// <summary>Binds <see cref="RateLimitingOptions"/> (the one place that reads the section) and adds the limiter.</summary>
    public static IServiceCollection AddClientRateLimiting(this IServiceCollection services)
    {
        services.AddOptions<RateLimitingOptions>()
            .BindConfiguration(RateLimitingOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton<Admin.AdminKeyGuesses>();
        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<RateLimitingOptions>>((limiter, configured) =>
        {
            var options = configured.Value;
            var clientKeys = options.ClientKeys.Where(k => !string.IsNullOrEmpty(k)).ToHashSet(StringComparer.Ordinal);
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
                        Detail = $"This client has used its request budget; retry after {retryAfter} s.",
                    },
                });
            };
            limiter.AddPolicy(Policy, context => options.Enabled
                ? RateLimitPartition.GetTokenBucketLimiter(ClientOf(context, options.ClientHeader, clientKeys), _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = options.Burst,
                    TokensPerPeriod = options.PermitsPerSecond,
                    ReplenishmentPeriod = options.ReplenishmentPeriod,
                    QueueLimit = 0,
                    AutoReplenishment = true,
                })
                : RateLimitPartition.GetNoLimiter(""));
            limiter.AddPolicy(AdminPolicy, context => options.Enabled
                ? RateLimitPartition.GetTokenBucketLimiter("admin-ip:" + (context.Connection.RemoteIpAddress?.ToString() ?? "unknown"),
                    _ => options.AdminBucket())
                : RateLimitPartition.GetNoLimiter(""));
        });
        return services;
    }

    private static string ClientOf(HttpContext context, string header, HashSet<string> clientKeys) =>
        context.Request.Headers[header] is { Count: > 0 } key && key[0] is { } value && clientKeys.Contains(value)
            ? "key:" + value
            : "ip:" + (context.Connection.RemoteIpAddress?.ToString() ?? "unknown");
}
