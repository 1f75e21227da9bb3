using MathNet.Numerics.Distributions;

namespace RecApp.Api.Experiments;

/// <summary>Users exposed to a variant and how many of them did the thing measured (clicked, bought).</summary>
public sealed record VariantCounts(string Variant, long Users, long Successes)
{
    public double Rate => Users == 0 ? 0 : (double)Successes / Users;
}

/// <summary>A rate with its 95% Wilson interval.</summary>
public sealed record RateEstimate(double Rate, double Low, double High);

/// <summary>One variant against the control: relative lift, two-proportion z-test, and whether it is called.</summary>
public sealed record VariantComparison(
    string Variant, RateEstimate Estimate, double RelativeLift, double Z, double PValue, bool Significant);

/// <summary>
/// The analysis and its decision rule, stated once: each variant is compared with the control by a two-sided
/// two-proportion z-test on users (pooled standard error). A variant is called the winner when its p-value is below
/// <c>alpha / (variants − 1)</c> (Bonferroni, so several variants do not inflate false calls), its rate is above the
/// control's, and every arm has at least <see cref="MinimumUsersPerVariant"/> users; if no variant qualifies the
/// control stays. A variant significantly worse is reported as such and never called.
/// </summary>
public static class ExperimentStatistics
{
    public const double Alpha = 0.05;
    public const int MinimumUsersPerVariant = 100;

    private static readonly double s_z95 = Normal.InvCDF(0, 1, 0.975);

    public static RateEstimate Wilson(VariantCounts counts)
    {
        if (counts.Users == 0)
        {
            return new RateEstimate(0, 0, 1);
        }
        double n = counts.Users, p = counts.Rate, z = s_z95, z2 = z * z;
        var centre = (p + (z2 / (2 * n))) / (1 + (z2 / n));
        var half = z * Math.Sqrt((p * (1 - p) / n) + (z2 / (4 * n * n))) / (1 + (z2 / n));
        return new RateEstimate(p, Math.Max(0, centre - half), Math.Min(1, centre + half));
    }

    /// <summary>Two-sided two-proportion z-test of <paramref name="treatment"/> against <paramref name="control"/>.</summary>
    public static (double Z, double PValue) TwoProportionTest(VariantCounts control, VariantCounts treatment)
    {
        if (control.Users == 0 || treatment.Users == 0)
        {
            return (0, 1);
        }
        var pooled = (double)(control.Successes + treatment.Successes) / (control.Users + treatment.Users);
        var se = Math.Sqrt(pooled * (1 - pooled) * ((1.0 / control.Users) + (1.0 / treatment.Users)));
        if (se == 0)
        {
            return (0, 1);
        }
        var z = (treatment.Rate - control.Rate) / se;
        return (z, 2 * (1 - Normal.CDF(0, 1, Math.Abs(z))));
    }

    /// <summary>Compares every variant with the first (the control) and names the winner, if the rule calls one.</summary>
    public static (VariantComparison[] Comparisons, string? Winner) Analyze(IReadOnlyList<VariantCounts> variants)
    {
        if (variants.Count < 2)
        {
            return ([], null);
        }
        var control = variants[0];
        var threshold = Alpha / (variants.Count - 1);
        var enough = variants.All(v => v.Users >= MinimumUsersPerVariant);
        var comparisons = new VariantComparison[variants.Count];
        comparisons[0] = new VariantComparison(control.Variant, Wilson(control), 0, 0, 1, false);
        string? winner = null;
        var best = double.NegativeInfinity;
        for (var i = 1; i < variants.Count; i++)
        {
            var v = variants[i];
            var (z, p) = TwoProportionTest(control, v);
            var significant = enough && p < threshold;
            var lift = control.Rate == 0 ? double.NaN : (v.Rate - control.Rate) / control.Rate; // undefined against 0
            comparisons[i] = new VariantComparison(v.Variant, Wilson(v), lift, z, p, significant);
            if (significant && z > 0 && z > best)
            {
                best = z;
                winner = v.Variant;
            }
        }
        return (comparisons, winner);
    }
}
