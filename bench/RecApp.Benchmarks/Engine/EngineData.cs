using RecApp.Engine.Domain;
using RecApp.Data.Migrations;
using RecApp.Data.Source;
using RecApp.Engine.Datasets;

namespace RecApp.Benchmarks.Engine;

/// <summary>
/// Engine benchmark data: the product's synthetic generator (the Refresher's <c>seed</c> verb, seed 42) at the issue's
/// sizes (S: 16k items, 50k users, 1.4M interactions; L: 100k items, 200k users, 5M interactions); anything else is
/// <c>tiny</c>. <see cref="Now"/> is the end of the generated history.
/// </summary>
internal static class EngineData
{
    public static readonly DateTime Now = SyntheticDatasetOptions.DefaultReferenceEnd;

    public static Dataset Create(string size) =>
        SyntheticDatasetGenerator.Generate(new SyntheticDatasetOptions(
            SyntheticDatasetSize.All.FirstOrDefault(s => s.Name == size) ?? SyntheticDatasetSize.Tiny, Seed: 42) { ReferenceEnd = Now });
}
