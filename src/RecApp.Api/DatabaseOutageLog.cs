namespace RecApp.Api;

/// <summary>
/// The log's account of a PostgreSQL outage, as a signal rather than a flood: one warning when requests first fail for
/// it, a summary with the count of requests refused or degraded every <see cref="SummaryInterval"/> while it lasts, and
/// one information line when the database answers again. Each failure's stack trace is logged at Debug only (before:
/// a warning with a ~4 KB trace per refused request, 300k lines in 15 s of writes).
/// </summary>
public sealed class DatabaseOutageLog(TimeProvider clock, ILogger<DatabaseOutageLog> logger)
{
    public static readonly TimeSpan SummaryInterval = TimeSpan.FromSeconds(10);

    private readonly Lock _lock = new();
    private volatile bool _down;
    private DateTimeOffset _since;
    private DateTimeOffset _windowStart;
    private long _inWindow;
    private long _total;

    /// <summary>A request answered without the database (refused with 503, or degraded to a fallback).</summary>
    public void Failed(Exception exception, string what)
    {
        logger.LogDebug(exception, "PostgreSQL unreachable: {What}.", what);
        var now = clock.GetUtcNow();
        lock (_lock)
        {
            _total++;
            if (!_down)
            {
                (_down, _since, _windowStart, _inWindow) = (true, now, now, 0);
                logger.LogWarning(
                    "PostgreSQL is unreachable ({Error}): writes answer 503 with Retry-After and uncached lists the popular fallback until it answers; a summary follows every {Interval} s.",
                    FirstLine(exception), SummaryInterval.TotalSeconds);
                return;
            }
            _inWindow++;
            if (now - _windowStart >= SummaryInterval)
            {
                logger.LogWarning("PostgreSQL still unreachable after {Duration:F0} s: {Count} requests refused or degraded in the last {Window:F0} s.",
                    (now - _since).TotalSeconds, _inWindow, (now - _windowStart).TotalSeconds);
                (_windowStart, _inWindow) = (now, 0);
            }
        }
    }

    /// <summary>The database answered a request: ends an outage (cheap when there is none).</summary>
    public void Answered()
    {
        if (!_down)
        {
            return;
        }
        lock (_lock)
        {
            if (_down)
            {
                _down = false;
                logger.LogInformation("PostgreSQL answers again after {Duration:F0} s unreachable; {Count} requests were refused or degraded meanwhile.",
                    (clock.GetUtcNow() - _since).TotalSeconds, _total);
                _total = 0;
            }
        }
    }

    private static string FirstLine(Exception exception)
    {
        var message = exception.InnerException is { } inner && exception is not TimeoutException ? $"{exception.Message} {inner.Message}" : exception.Message;
        var newline = message.IndexOf('\n');
        return newline < 0 ? message : message[..newline].TrimEnd();
    }
}
