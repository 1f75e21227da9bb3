using RecApp.Data.Experiments;

namespace RecApp.Api.Experiments;

/// <summary>Turns stored outcomes into <see cref="ExperimentResults"/> with <see cref="ExperimentStatistics"/>.</summary>
public static class ExperimentAnalysis
{
    public static readonly TimeSpan AttributionWindow = TimeSpan.FromHours(24);

    public static string DecisionRule =>
        $"Unit: users. CTR = users who clicked an item of a list they were shown within {AttributionWindow.TotalHours:0} h; " +
        "conversion = users who bought one. Each variant is compared with the control (the first variant) by a two-sided " +
        $"two-proportion z-test; a variant wins when p < {ExperimentStatistics.Alpha} / (variants - 1), its rate is higher, " +
        $"and every variant has at least {ExperimentStatistics.MinimumUsersPerVariant} users. Otherwise the control stays.";

    public static ExperimentResults Analyze(ExperimentDefinition experiment, IReadOnlyList<VariantOutcome> outcomes)
    {
        // In the experiment's own variant order (control first); a variant nobody saw yet counts zero.
        var ordered = experiment.Variants
            .Select(v => outcomes.FirstOrDefault(o => o.Variant == v.Name) ?? new VariantOutcome(v.Name, 0, 0, 0, 0, 0))
            .ToArray();
        var (ctr, ctrWinner) = ExperimentStatistics.Analyze([.. ordered.Select(o => new VariantCounts(o.Variant, o.Users, o.Clickers))]);
        var (conversion, conversionWinner) = ExperimentStatistics.Analyze([.. ordered.Select(o => new VariantCounts(o.Variant, o.Users, o.Buyers))]);
        var variants = new VariantResult[ordered.Length];
        for (var i = 0; i < ordered.Length; i++)
        {
            var o = ordered[i];
            variants[i] = new VariantResult(o.Variant, o.Users, o.Exposures,
                Rate(o.Clickers, ctr, i), Rate(o.Buyers, conversion, i),
                o.Users == 0 ? 0 : Math.Round((double)o.Engagements / o.Users, 4));
        }
        return new ExperimentResults(AttributionWindow.TotalHours, DecisionRule, ctrWinner, conversionWinner, variants);
    }

    private static RateResult Rate(long successes, VariantComparison[] comparisons, int index)
    {
        var c = comparisons[index];
        var isControl = index == 0;
        return new RateResult(successes, Math.Round(c.Estimate.Rate, 6), Math.Round(c.Estimate.Low, 6), Math.Round(c.Estimate.High, 6),
            isControl || double.IsNaN(c.RelativeLift) ? null : Math.Round(c.RelativeLift, 6), isControl ? null : Math.Round(c.Z, 4),
            isControl ? null : Math.Round(c.PValue, 6), isControl ? null : c.Significant);
    }
}
