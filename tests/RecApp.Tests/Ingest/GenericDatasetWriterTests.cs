using RecApp.Engine.Domain;
using RecApp.Data.Migrations;
using RecApp.Data.Source;
using RecApp.Engine.Datasets;

namespace RecApp.Tests.Ingest;

/// <summary>What <see cref="GenericDatasetWriter"/> writes, the generic importer reads back unchanged.</summary>
public sealed class GenericDatasetWriterTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("recapp-writer-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Written_files_import_as_the_same_dataset()
    {
        var at = new DateTime(2018, 9, 24, 14, 27, 30, DateTimeKind.Utc).AddTicks(1_234_560); // microseconds kept
        var dataset = new Dataset(
            [
                new CatalogItem(1, "Red kettle, \"1.7 l\"", "kitchen", ["steel", "electric"], 39.9m, 3, true, at),
                new CatalogItem(2, "Café Society (1995) — ünïcode", "drama", [], 0m, null, false, DateTime.UnixEpoch),
            ],
            [new UserDemographics(7, "f", "25-34", 2), new UserDemographics(8, null, null, null)],
            [
                new Interaction(7, 1, InteractionType.Rating, 0.30103f, at),
                new Interaction(7, 2, InteractionType.Click, null, at.AddDays(-3000)),
                new Interaction(8, 1, InteractionType.Purchase, 2.5f, DateTime.UnixEpoch.AddSeconds(964982703)),
            ]);

        GenericDatasetWriter.Write(dataset, _directory);
        var (imported, report) = DatasetImportFormat.Import(DatasetImportFormat.Generic, _directory);

        Assert.False(report.HasProblems, report.Format());
        Assert.Equal(0, report.ImplicitUsers);
        Assert.Equal(dataset.Items.Count, imported.Items.Count);
        for (var i = 0; i < dataset.Items.Count; i++)
        {
            var (expected, actual) = (dataset.Items[i], imported.Items[i]);
            Assert.Equal(expected with { Tags = [] }, actual with { Tags = [] });
            Assert.Equal(expected.Tags, actual.Tags);
        }
        Assert.Equal(dataset.Users, imported.Users);
        Assert.Equal(dataset.Interactions, imported.Interactions);
    }
}
