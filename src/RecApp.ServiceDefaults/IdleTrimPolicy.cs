namespace RecApp.ServiceDefaults;

/// <summary>
/// When to trim, apart from the clock and the collector: fed each period's allocation, it says trim once a period
/// allocated under the idle rate, at least <c>minimumAllocation</c> bytes were allocated since the last trim, this
/// quiet stretch has not been trimmed yet, and <see cref="MinimumGap"/> has passed since the last trim (so traffic that
/// swings between busy and quiet pays the pause at most once per gap).
/// </summary>
public sealed class IdleTrimPolicy(TimeSpan period, long minimumAllocation)
{
    /// <summary>
    /// Below this allocation rate a service counts as idle: its polls and probes allocate a few KB a second, a few
    /// hundred cache hits a second stay under it too (those requests wait for the pause).
    /// </summary>
    public const long IdleBytesPerSecond = 1024 * 1024;

    /// <summary>The shortest time between two trims.</summary>
    public static readonly TimeSpan MinimumGap = TimeSpan.FromMinutes(5);

    private readonly long _idleLimit = (long)(IdleBytesPerSecond * period.TotalSeconds);
    private readonly int _gapPeriods = (int)Math.Ceiling(MinimumGap / period);
    private bool _trimmedThisIdle;
    private int _periodsSinceTrim = int.MaxValue;

    public long AllocatedSinceTrim { get; private set; }

    /// <summary>Takes one period's allocated bytes; true when the heap should be trimmed now.</summary>
    public bool ShouldTrim(long allocated)
    {
        AllocatedSinceTrim += allocated;
        _periodsSinceTrim = _periodsSinceTrim == int.MaxValue ? int.MaxValue : _periodsSinceTrim + 1;
        if (allocated >= _idleLimit)
        {
            _trimmedThisIdle = false;
            return false;
        }
        return !_trimmedThisIdle && AllocatedSinceTrim >= minimumAllocation && _periodsSinceTrim >= _gapPeriods;
    }

    public void Trimmed() => (AllocatedSinceTrim, _trimmedThisIdle, _periodsSinceTrim) = (0, true, 0);
}
