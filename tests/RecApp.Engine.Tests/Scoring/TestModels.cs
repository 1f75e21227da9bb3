using RecApp.Engine.Domain;
using RecApp.Engine.Model;
using RecApp.Engine.Training;

namespace RecApp.Engine.Tests;

/// <summary>
/// One tuned model over small synthetic data, built once per test run and shared by the scoring tests: a build costs
/// a few seconds, and most tests only read it.
/// </summary>
internal static class TestModels
{
    public static readonly DateTime End = new(2026, 11, 1, 0, 0, 0, DateTimeKind.Utc);

    /// <summary>A tuning budget no test build reaches, so every build makes the same choices however busy the machine.</summary>
    public static RecommendationOptions Tuned() => new() { Tuning = { Budget = TimeSpan.FromMinutes(10), Users = 200 } };

    private static readonly Lazy<(Dataset Data, ModelSnapshot Snapshot)> s_synthetic = new(() =>
    {
        var data = TestDatasets.Synthetic(600, 400, 12_000, end: End);
        return (data, ModelSnapshot.FromModel(data.Items, GlobalModelBuilder.Build(data, Tuned())));
    });

    private static readonly Lazy<ModelSnapshot> s_untuned = new(() =>
        ModelSnapshot.FromModel(SyntheticData.Items, GlobalModelBuilder.Build(SyntheticData, Untuned(), End)));

    /// <summary>No tuning: the configured blend and decay.</summary>
    public static RecommendationOptions Untuned() => new() { Tuning = { Budget = TimeSpan.Zero } };

    /// <summary>600 items, 400 users, 12,000 interactions ending at <see cref="End"/>.</summary>
    public static Dataset SyntheticData => s_synthetic.Value.Data;

    /// <summary>The model built from <see cref="SyntheticData"/> with <see cref="Tuned"/>.</summary>
    public static ModelSnapshot Synthetic => s_synthetic.Value.Snapshot;

    /// <summary>The model built from <see cref="SyntheticData"/> with <see cref="Untuned"/>.</summary>
    public static ModelSnapshot SyntheticUntuned => s_untuned.Value;
}
