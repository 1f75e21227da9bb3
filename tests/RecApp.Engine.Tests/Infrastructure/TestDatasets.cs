using RecApp.Engine.Domain;
using RecApp.Engine.Datasets;

namespace RecApp.Engine.Tests;

/// <summary>
/// The product's synthetic generator (the Refresher's <c>seed</c> verb) at small custom sizes, for engine tests that
/// need planted structure but not a hand-made shape.
/// </summary>
internal static class TestDatasets
{
    public static Dataset Synthetic(int items, int users, int interactions, int seed = 7, DateTime? end = null) =>
        SyntheticDatasetGenerator.Generate(new SyntheticDatasetOptions(new SyntheticDatasetSize("test", items, users, interactions), seed)
        {
            ReferenceEnd = end ?? SyntheticDatasetOptions.DefaultReferenceEnd,
        });
}
