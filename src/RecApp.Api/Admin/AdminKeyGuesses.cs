using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using RecApp.Api.Validation;

namespace RecApp.Api.Admin;

/// <summary>
/// Wrong admin keys per client address, limited like the admin routes (<c>RateLimiting:AdminBurst</c>, then
/// <c>AdminPermits</c> per <c>AdminReplenishmentPeriod</c>): once an address has used them up, its further wrong keys
/// answer 429 on every admin-key endpoint, whatever rate limit that endpoint's own group has (the console's data
/// endpoints use the per-client one, since one console view makes several calls). Right keys never count.
/// </summary>
public sealed class AdminKeyGuesses : IDisposable
{
    private readonly PartitionedRateLimiter<string>? _limiter;

    public AdminKeyGuesses(IOptions<RateLimitingOptions> options)
    {
        var settings = options.Value;
        if (settings.Enabled)
        {
            _limiter = PartitionedRateLimiter.Create<string, string>(address =>
                RateLimitPartition.GetTokenBucketLimiter(address, _ => settings.AdminBucket()));
        }
    }

    /// <summary>Counts one wrong key from this address; false when the address has no guesses left.</summary>
    public bool TryCount(HttpContext context)
    {
        if (_limiter is null)
        {
            return true;
        }
        using var lease = _limiter.AttemptAcquire(context.Connection.RemoteIpAddress?.ToString() ?? "unknown");
        return lease.IsAcquired;
    }

    public void Dispose() => _limiter?.Dispose();
}
