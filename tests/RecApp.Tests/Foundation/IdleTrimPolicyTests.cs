using RecApp.ServiceDefaults;

namespace RecApp.Tests.Foundation;

/// <summary>When a service trims its heap: once per idle stretch, after enough allocation, never while busy.</summary>
public sealed class IdleTrimPolicyTests
{
    private const long MB = 1024 * 1024;
    private static readonly TimeSpan s_period = TimeSpan.FromSeconds(10); // idle: under 10 MB in a period

    [Fact]
    public void A_burst_then_an_idle_period_trims_once()
    {
        var policy = new IdleTrimPolicy(s_period, minimumAllocation: 256 * MB);

        Assert.False(policy.ShouldTrim(300 * MB)); // busy
        Assert.True(policy.ShouldTrim(1 * MB));    // idle after the burst
        policy.Trimmed();
        Assert.Equal(0, policy.AllocatedSinceTrim);
        Assert.False(policy.ShouldTrim(1 * MB));   // still the same idle stretch
        Assert.False(policy.ShouldTrim(0));
    }

    [Fact]
    public void Busy_periods_never_trim()
    {
        var policy = new IdleTrimPolicy(s_period, minimumAllocation: 256 * MB);

        Assert.All(Enumerable.Range(0, 20), _ => Assert.False(policy.ShouldTrim(100 * MB)));
        Assert.Equal(2000 * MB, policy.AllocatedSinceTrim);
    }

    [Fact]
    public void Light_traffic_trims_only_after_the_minimum_allocation_and_a_new_busy_period()
    {
        var policy = new IdleTrimPolicy(s_period, minimumAllocation: 256 * MB);

        // 9 MB per period is idle: no trim until 256 MB have accumulated.
        var periods = 0;
        while (!policy.ShouldTrim(9 * MB))
        {
            periods++;
        }
        Assert.Equal(28, periods); // the 29th period brings the total to 261 MB
        policy.Trimmed();

        Assert.All(Enumerable.Range(0, 40), _ => Assert.False(policy.ShouldTrim(9 * MB))); // same idle stretch
        Assert.False(policy.ShouldTrim(50 * MB)); // a busy period ends it
        Assert.True(policy.ShouldTrim(1 * MB));   // 42 periods of 10 s: past the 5-minute gap
    }

    [Fact]
    public void Bursts_closer_than_the_minimum_gap_share_one_trim()
    {
        var policy = new IdleTrimPolicy(s_period, minimumAllocation: 256 * MB);
        Assert.False(policy.ShouldTrim(300 * MB));
        Assert.True(policy.ShouldTrim(0));
        policy.Trimmed();

        // A burst and a quiet period every 20 s: no second trim until 5 minutes (30 periods) have passed.
        var periods = 0;
        var trimmed = false;
        while (!trimmed)
        {
            trimmed = policy.ShouldTrim(periods % 2 == 0 ? 300 * MB : 0);
            periods++;
        }
        Assert.Equal(IdleTrimPolicy.MinimumGap / s_period, periods, 0.0);
    }

    [Fact]
    public void Nothing_allocated_since_start_never_trims()
    {
        var policy = new IdleTrimPolicy(s_period, minimumAllocation: 256 * MB);

        Assert.All(Enumerable.Range(0, 10), _ => Assert.False(policy.ShouldTrim(0)));
    }
}
