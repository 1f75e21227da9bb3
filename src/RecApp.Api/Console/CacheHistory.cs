using RecApp.Api.Caching;

namespace RecApp.Api.Console;

/// <summary>
/// A ring buffer of this instance's cache tier counters, sampled every <see cref="SampleInterval"/> for the console's
/// hit-rate chart: the counters are cumulative, so the picture over time needs samples kept somewhere, and an hour of
/// them is small enough to keep in memory (each replica keeps its own).
/// </summary>
public sealed class CacheHistory(CacheTierStatistics statistics, TimeProvider clock) : BackgroundService
{
    public static readonly TimeSpan SampleInterval = TimeSpan.FromSeconds(10);

    /// <summary>One hour of samples.</summary>
    public const int Capacity = 360;

    private readonly Lock _gate = new();
    private readonly CacheSample[] _ring = new CacheSample[Capacity];
    private int _next;
    private int _count;

    /// <summary>Takes a sample now (also what the timer does).</summary>
    public void Sample()
    {
        var tiers = statistics.Read();
        var at = clock.GetUtcNow();
        lock (_gate)
        {
            var previous = _count == 0 ? null : _ring[(_next + Capacity - 1) % Capacity];
            var l1 = tiers.L1Hits - (previous?.L1Hits ?? 0);
            var l2 = tiers.L2Hits - (previous?.L2Hits ?? 0);
            var misses = tiers.Misses - (previous?.Misses ?? 0);
            var reads = l1 + l2 + misses;
            double? Rate(long part) => reads <= 0 ? null : Math.Round((double)part / reads, 4);
            _ring[_next] = new CacheSample(at, tiers.L1Hits, tiers.L2Hits, tiers.Misses, reads, Rate(l1), Rate(l2), Rate(misses));
            _next = (_next + 1) % Capacity;
            _count = Math.Min(_count + 1, Capacity);
        }
    }

    /// <summary>The samples kept, oldest first.</summary>
    public CacheSample[] Read()
    {
        lock (_gate)
        {
            var samples = new CacheSample[_count];
            for (var i = 0; i < _count; i++)
            {
                samples[i] = _ring[(_next - _count + i + Capacity) % Capacity];
            }
            return samples;
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(SampleInterval, clock);
        try
        {
            do
            {
                Sample();
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // stopping
        }
    }
}
