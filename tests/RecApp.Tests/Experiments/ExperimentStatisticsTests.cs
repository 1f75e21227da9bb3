using RecApp.Api.Experiments;
using RecApp.Data.Experiments;

namespace RecApp.Tests.Experiments;

/// <summary>The decision rule on simulated populations: real effects are called, A/A tests rarely are.</summary>
public sealed class ExperimentStatisticsTests
{
    /// <summary>Users assigned by the real hash, each converting with their variant's true rate.</summary>
    private static VariantCounts[] Simulate(int users, double controlRate, double treatmentRate, int seed)
    {
        var experiment = new ExperimentDefinition("sim", ExperimentSurface.Personalized, $"salt-{seed}",
            [new("A", 50, new Dictionary<string, string>()), new("B", 50, new Dictionary<string, string>())],
            ExperimentStatus.Running, DateTimeOffset.UnixEpoch, null, null);
        var random = new Random(seed);
        long aUsers = 0, aConversions = 0, bUsers = 0, bConversions = 0;
        for (long user = 1; user <= users; user++)
        {
            var isB = ExperimentAssignment.Assign(experiment, user).Name == "B";
            var converted = random.NextDouble() < (isB ? treatmentRate : controlRate);
            if (isB)
            {
                bUsers++;
                bConversions += converted ? 1 : 0;
            }
            else
            {
                aUsers++;
                aConversions += converted ? 1 : 0;
            }
        }
        return [new("A", aUsers, aConversions), new("B", bUsers, bConversions)];
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void A_variant_that_truly_converts_ten_percent_better_is_called(int seed)
    {
        // 20% vs 22%: with 20,000 users per arm the test has well over 99% power at the 5% level.
        var counts = Simulate(40_000, 0.20, 0.22, seed);

        var (comparisons, winner) = ExperimentStatistics.Analyze(counts);

        Assert.Equal("B", winner);
        Assert.True(comparisons[1].Significant);
        Assert.InRange(comparisons[1].RelativeLift, 0.03, 0.17);
        Assert.True(comparisons[1].Estimate.Low < comparisons[1].Estimate.Rate && comparisons[1].Estimate.Rate < comparisons[1].Estimate.High);
    }

    [Fact]
    public void An_AA_test_is_called_about_five_percent_of_the_time_or_less()
    {
        const int runs = 1_000;
        var calls = 0;
        var falsePositives = 0;
        for (var seed = 0; seed < runs; seed++)
        {
            var (comparisons, winner) = ExperimentStatistics.Analyze(Simulate(4_000, 0.10, 0.10, seed));
            calls += winner is null ? 0 : 1;
            falsePositives += comparisons[1].Significant ? 1 : 0;
        }
        // Significant in either direction ~5% of runs (binomial sd ~7 over 1,000 runs); called for B about half of that.
        Assert.InRange(falsePositives, 25, 80);
        Assert.True(calls <= falsePositives);
    }

    [Fact]
    public void Too_few_users_are_never_called()
    {
        var (comparisons, winner) = ExperimentStatistics.Analyze([new("A", 50, 5), new("B", 50, 40)]);

        Assert.Null(winner);
        Assert.False(comparisons[1].Significant);
        Assert.True(comparisons[1].PValue < 0.05); // the difference is large; the rule still waits for enough users
    }

    [Fact]
    public void A_significantly_worse_variant_is_reported_but_not_called()
    {
        var (comparisons, winner) = ExperimentStatistics.Analyze([new("A", 5_000, 1_000), new("B", 5_000, 700)]);

        Assert.Null(winner);
        Assert.True(comparisons[1].Significant);
        Assert.True(comparisons[1].Z < 0);
    }

    [Fact]
    public void The_z_test_matches_a_hand_computed_example()
    {
        // p1 = 0.10 (100/1000), p2 = 0.13 (130/1000), pooled 0.115: z = 0.03 / sqrt(0.115 * 0.885 * 0.002) = 2.1027, p = erfc(z / sqrt 2) = 0.03549.
        var (z, p) = ExperimentStatistics.TwoProportionTest(new("A", 1000, 100), new("B", 1000, 130));

        Assert.Equal(2.1027, z, 3);
        Assert.Equal(0.03549, p, 4);
    }
}
