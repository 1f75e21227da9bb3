using System.Collections.Concurrent;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using RecApp.Api.Validation;

namespace RecApp.Api.Admin;

/// <summary>
/// Requests to admin routes without a valid key (none, or a wrong one), per client address: a token bucket per address
/// (<c>RateLimiting:AdminBurst</c>, then <c>AdminPermits</c> per <c>AdminReplenishmentPeriod</c>) after which that
/// address's keyless and wrong-key requests answer 429. Only failures spend it, so the operator's right key is never
/// refused because someone behind the same address guessed. Failures are logged in aggregate: one warning per address
/// per <see cref="LogInterval"/> with the count, not one line per request.
/// </summary>
public sealed class AdminKeyFailures : BackgroundService
{
    public static readonly TimeSpan LogInterval = TimeSpan.FromMinutes(1);

    private readonly PartitionedRateLimiter<string>? _limiter;
    private readonly TimeProvider _clock;
    private readonly ILogger<AdminKeyFailures> _logger;
    private ConcurrentDictionary<string, Tally> _window = new();

    public AdminKeyFailures(IOptions<RateLimitingOptions> options, TimeProvider clock, ILogger<AdminKeyFailures> logger)
    {
        var settings = options.Value;
        if (settings.Enabled)
        {
            _limiter = PartitionedRateLimiter.Create<string, string>(address =>
                RateLimitPartition.GetTokenBucketLimiter(address, _ => settings.AdminBucket()));
        }
        _clock = clock;
        _logger = logger;
    }

    /// <summary>Counts one failed attempt; null while the address is within its budget, else how long until it may try again.</summary>
    public TimeSpan? Count(HttpContext context)
    {
        var address = context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        var limited = false;
        TimeSpan? retryAfter = null;
        if (_limiter is not null)
        {
            using var lease = _limiter.AttemptAcquire(address);
            if (!lease.IsAcquired)
            {
                limited = true;
                retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
            }
        }
        var tally = _window.GetOrAdd(address, static _ => new Tally());
        Interlocked.Increment(ref tally.Failures);
        if (limited)
        {
            Interlocked.Increment(ref tally.Limited);
        }
        return retryAfter;
    }

    /// <summary>Logs the failures counted since the last call, one line per address, and starts a new window.</summary>
    public void Flush()
    {
        var window = Interlocked.Exchange(ref _window, new ConcurrentDictionary<string, Tally>());
        foreach (var (address, tally) in window)
        {
            _logger.LogWarning(
                "{Failures} admin requests without a valid key from {Address} in the last window ({Limited} of them refused with 429).",
                tally.Failures, address, tally.Limited);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(LogInterval, _clock);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                Flush();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // stopping
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        Flush(); // what the last window counted is not lost on shutdown
    }

    public override void Dispose()
    {
        _limiter?.Dispose();
        base.Dispose();
    }

    private sealed class Tally
    {
        public long Failures;
        public long Limited;
    }
}
