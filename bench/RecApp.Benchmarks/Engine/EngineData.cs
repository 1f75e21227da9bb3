using RecApp.Recommendations.Data;
using RecApp.Recommendations.Evaluation;

namespace RecApp.Benchmarks.Engine;

/// <summary>
/// Engine benchmark data: the engine's own planted-structure Zipf dataset at the sizes (S: 16k items, 50k
/// users, 1.4M interactions; L: 100k items, 200k users, 5M interactions). Re-run on the product generator's data
/// when comparing with docs/PERFORMANCE.md.
/// </summary>
internal static class EngineData
{
    public static readonly DateTime Now = new(2026, 11, 1, 0, 0, 0, DateTimeKind.Utc);

    public static Dataset Create(string size) => size switch
    {
        "S" => SyntheticDataset.Create(16_000, 50_000, 1_400_000, seed: 7, categories: 50, now: Now),
        "L" => SyntheticDataset.Create(100_000, 200_000, 5_000_000, seed: 7, categories: 50, now: Now),
        _ => SyntheticDataset.Create(2_000, 5_000, 100_000, seed: 7, categories: 20, now: Now),
    };
}
