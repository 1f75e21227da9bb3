using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace RecApp.Api.Validation;

/// <summary>
/// Section <c>RateLimiting</c>: a token bucket per unknown caller's address (callers with a configured key and callers on
/// private networks are not limited by default: a recommendation service is mostly called by a few backend hosts), and
/// one per address for failed admin authentications.
/// </summary>
public sealed class RateLimitingOptions : IValidatableObject
{
    public const string SectionName = "RateLimiting";

    /// <summary>The budget of failed admin authentications (no key or a wrong one) per client address.</summary>
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
    /// API keys of known callers (the backends a recommendation service is called by). A request carrying one is not
    /// limited, unless <see cref="ClientKeyPermitsPerSecond"/> gives each key a bucket of its own. Any other client,
    /// with an unknown key or none, is limited by its remote IP address: a made-up header value must not buy a bucket.
    /// </summary>
    public string[] ClientKeys { get; set; } = [];

    /// <summary>Requests per second (and twice that as burst) for each of <see cref="ClientKeys"/>; 0 = not limited.</summary>
    [Range(0, int.MaxValue, ErrorMessage = "RateLimiting:ClientKeyPermitsPerSecond must be 0 (no limit) or more.")]
    public int ClientKeyPermitsPerSecond { get; set; }

    /// <summary>
    /// Networks whose callers are not limited (CIDR): by default loopback and the private ranges, where the app servers
    /// that call a recommendation service live (and where a reverse proxy in front of it forwards from). Set an empty
    /// list (<c>RateLimiting:UnlimitedNetworks:0=</c>) to limit every address.
    /// </summary>
    public string[] UnlimitedNetworks { get; set; } =
        ["127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7", "169.254.0.0/16", "fe80::/10"];

    /// <summary><see cref="UnlimitedNetworks"/> parsed; validated at start-up, naming a bad entry.</summary>
    internal System.Net.IPNetwork[] ParsedUnlimitedNetworks() =>
        [.. UnlimitedNetworks.Where(n => !string.IsNullOrWhiteSpace(n)).Select(n => System.Net.IPNetwork.Parse(n.Trim()))];

    /// <summary>
    /// Failed admin authentications (no key or a wrong one) per client address added back every
    /// <see cref="AdminReplenishmentPeriod"/>; past the budget, that address's failures answer 429. The right key is
    /// never refused for them.
    /// </summary>
    [Range(1, int.MaxValue, ErrorMessage = "RateLimiting:AdminPermits must be at least 1.")]
    public int AdminPermits { get; set; } = 10;

    [Range(typeof(TimeSpan), "00:00:00.001", "365.00:00:00", ErrorMessage = "RateLimiting:AdminReplenishmentPeriod must be positive.")]
    public TimeSpan AdminReplenishmentPeriod { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>The failure bucket's size: this many failed admin authentications at once, then <see cref="AdminPermits"/> per period.</summary>
    [Range(1, int.MaxValue, ErrorMessage = "RateLimiting:AdminBurst must be at least 1.")]
    public int AdminBurst { get; set; } = 20;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        for (var i = 0; i < UnlimitedNetworks.Length; i++)
        {
            var network = UnlimitedNetworks[i];
            if (!string.IsNullOrWhiteSpace(network) && !System.Net.IPNetwork.TryParse(network.Trim(), out _))
            {
                yield return new ValidationResult(
                    $"RateLimiting:UnlimitedNetworks:{i} ('{network}') is not a network in CIDR notation (e.g. 10.0.0.0/8).",
                    [nameof(UnlimitedNetworks)]);
            }
        }
    }
}

/// <summary>The per-client limiter on every API route (not on /health, /alive or the docs).</summary>
public static class ClientRateLimiting
{
    public const string Policy = "per-client";

    /// <summary>Binds <see cref="RateLimitingOptions"/> (the one place that reads the section) and adds the limiter.</summary>
    public static IServiceCollection AddClientRateLimiting(this IServiceCollection services)
    {
        services.AddOptions<RateLimitingOptions>()
            .BindConfiguration(RateLimitingOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<RateLimitingOptions>>((limiter, configured) =>
        {
            var options = configured.Value;
            var clientKeys = options.ClientKeys.Where(k => !string.IsNullOrEmpty(k)).ToHashSet(StringComparer.Ordinal);
            var unlimited = options.ParsedUnlimitedNetworks();
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
            limiter.AddPolicy(Policy, context =>
            {
                if (!options.Enabled)
                {
                    return RateLimitPartition.GetNoLimiter("");
                }
                if (KeyOf(context, options.ClientHeader, clientKeys) is { } key)
                {
                    return options.ClientKeyPermitsPerSecond == 0
                        ? RateLimitPartition.GetNoLimiter("key")
                        : RateLimitPartition.GetTokenBucketLimiter("key:" + key, _ => Bucket(options.ClientKeyPermitsPerSecond, 2 * options.ClientKeyPermitsPerSecond, options));
                }
                var address = context.Connection.RemoteIpAddress;
                if (address is not null && InAny(address, unlimited))
                {
                    return RateLimitPartition.GetNoLimiter("network");
                }
                return RateLimitPartition.GetTokenBucketLimiter("ip:" + (address?.ToString() ?? "unknown"),
                    _ => Bucket(options.PermitsPerSecond, options.Burst, options));
            });
        });
        return services;
    }

    private static TokenBucketRateLimiterOptions Bucket(int permitsPerSecond, int burst, RateLimitingOptions options) => new()
    {
        TokenLimit = burst,
        TokensPerPeriod = permitsPerSecond,
        ReplenishmentPeriod = options.ReplenishmentPeriod,
        QueueLimit = 0,
        AutoReplenishment = true,
    };

    /// <summary>The configured client key the request carries, or null (none, or one nobody configured).</summary>
    private static string? KeyOf(HttpContext context, string header, HashSet<string> clientKeys) =>
        context.Request.Headers[header] is { Count: > 0 } key && key[0] is { } value && clientKeys.Contains(value) ? value : null;

    private static bool InAny(System.Net.IPAddress address, System.Net.IPNetwork[] networks)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        foreach (var network in networks)
        {
            if (network.Contains(address))
            {
                return true;
            }
        }
        return false;
    }
}
