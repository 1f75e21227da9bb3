using RecApp.Engine.Domain;

namespace RecApp.Engine.Datasets;

/// <summary>A named size of synthetic data: <c>tiny</c> for tests, <c>S</c> (the service contract's data), <c>L</c> (the service contract's "scales to"),
/// <c>XL</c> (the scale curve's far point, bench/scale: 50M interactions, about 2 GB of <see cref="Interaction"/>s in memory).</summary>
public sealed record SyntheticDatasetSize(string Name, int Items, int Users, int Interactions)
{
    public static readonly SyntheticDatasetSize Tiny = new("tiny", 400, 300, 9_000);
    public static readonly SyntheticDatasetSize S = new("S", 16_000, 50_000, 1_400_000);
    public static readonly SyntheticDatasetSize L = new("L", 100_000, 200_000, 5_000_000);
    public static readonly SyntheticDatasetSize XL = new("XL", 1_000_000, 2_000_000, 50_000_000);

    public static IReadOnlyList<SyntheticDatasetSize> All { get; } = [Tiny, S, L, XL];

    /// <summary>Case-insensitive: <c>tiny</c>, <c>S</c>, <c>L</c>, <c>XL</c>.</summary>
    public static SyntheticDatasetSize Parse(string name) =>
        All.FirstOrDefault(size => string.Equals(size.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"Unknown dataset size '{name}'. Use one of: {string.Join(", ", All.Select(s => s.Name))}.", nameof(name));
}
