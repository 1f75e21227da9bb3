namespace RecApp.Caching;

/// <summary>
/// The clock behind every time one instance writes and another compares (entry creation and expiry, tag
/// invalidation): this machine's clock (the injected <see cref="TimeProvider"/>) plus an offset to the Redis server's
/// clock, estimated with <c>TIME</c> at start-up, after each reconnect and every 30 seconds. Instances whose own clocks
/// disagree thus stamp times on one shared scale, which also outlives any instance (what a restart reads back).
/// <para>
/// The estimate is off by at most half the round trip of the best of three <c>TIME</c> calls, plus drift since then;
/// <see cref="Uncertainty"/> bounds that error. Creation times are stamped at the earliest the true time can be
/// (<see cref="Earliest"/>) and invalidations at the latest (<see cref="Latest"/>), so "invalidated at or after
/// creation" holds whenever the invalidation really came after the work started, whatever the skew between the two
/// machines. The price: an entry created within twice the uncertainty (about a millisecond) after an invalidation of
/// one of its tags counts as stale once more. Until the first estimate succeeds (Redis unreachable at start) the
/// offset is zero.
/// </para>
/// </summary>
internal sealed class RedisClock : IDisposable
{
    private static readonly TimeSpan ResyncInterval = TimeSpan.FromSeconds(30);
    private const long SlackTicks = TimeSpan.TicksPerMillisecond / 10; // clock reading granularity, with room to spare
    private const int DriftDivisor = 20_000; // 50 ppm: a quartz clock's worst case; NTP-disciplined ones drift far less

    private readonly TimeProvider _time;
    private readonly DistributedTier _l2;
    private readonly ITimer _timer;
    private readonly TaskCompletionSource _firstSync = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Sample _sample;
    private int _synchronizing;

    /// <summary>One estimate, swapped as a whole so readers never mix two.</summary>
    private sealed record Sample(long OffsetTicks, long HalfRoundTripTicks, long Timestamp);

    public RedisClock(TimeProvider time, DistributedTier l2)
    {
        _time = time;
        _l2 = l2;
        _sample = new Sample(0, 0, time.GetTimestamp());
        _timer = time.CreateTimer(static state => _ = ((RedisClock)state!).SynchronizeAsync(), this, ResyncInterval, ResyncInterval);
    }

    /// <summary>Completes once the offset has been estimated from Redis once (start-up ordering and tests).</summary>
    public Task FirstSynchronization => _firstSync.Task;

    /// <summary>Best estimate of the Redis server's clock now, in UTC ticks.</summary>
    public long Now => _time.GetUtcNow().UtcTicks + Volatile.Read(ref _sample).OffsetTicks;

    /// <summary>
    /// Largest error <see cref="Now"/> may have: half the sampled round trip, 0.1 ms, and drift since the sample (at
    /// most 1.5 ms before the next one). A step of the local clock (manual change, NTP step) is not covered until the
    /// next estimate.
    /// </summary>
    public long Uncertainty => UncertaintyOf(Volatile.Read(ref _sample));

    /// <summary>No later than the true (Redis) time: what entry creation times are stamped with.</summary>
    public long Earliest
    {
        get
        {
            var sample = Volatile.Read(ref _sample);
            return _time.GetUtcNow().UtcTicks + sample.OffsetTicks - UncertaintyOf(sample);
        }
    }

    /// <summary>No earlier than the true (Redis) time: what tag invalidations are stamped with.</summary>
    public long Latest
    {
        get
        {
            var sample = Volatile.Read(ref _sample);
            return _time.GetUtcNow().UtcTicks + sample.OffsetTicks + UncertaintyOf(sample);
        }
    }

    private long UncertaintyOf(Sample sample) =>
        sample.HalfRoundTripTicks + SlackTicks + (_time.GetElapsedTime(sample.Timestamp).Ticks / DriftDivisor);

    /// <summary>Estimates the offset from three <c>TIME</c> calls, keeping the one with the shortest round trip.</summary>
    public async Task SynchronizeAsync()
    {
        if (Interlocked.Exchange(ref _synchronizing, 1) == 1)
        {
            return;
        }
        try
        {
            var best = long.MaxValue;
            long offset = 0, sampledAt = 0;
            for (var i = 0; i < 3; i++)
            {
                var started = _time.GetTimestamp();
                var local = _time.GetUtcNow().UtcTicks;
                var (done, redisTime) = await _l2.RunAsync("time", 0, static (redis, _) =>
                    redis.Connection.GetServer(redis.Connection.GetEndPoints()[0]).TimeAsync());
                if (!done)
                {
                    return;
                }
                var roundTrip = _time.GetElapsedTime(started).Ticks;
                if (roundTrip < best)
                {
                    best = roundTrip;
                    // The server read its clock somewhere within the round trip: assume the middle.
                    offset = DateTime.SpecifyKind(redisTime, DateTimeKind.Utc).Ticks - (local + (roundTrip / 2));
                    sampledAt = started;
                }
            }
            Volatile.Write(ref _sample, new Sample(offset, (best + 1) / 2, sampledAt));
            _firstSync.TrySetResult();
        }
        finally
        {
            Volatile.Write(ref _synchronizing, 0);
        }
    }

    public void Dispose() => _timer.Dispose();
}
