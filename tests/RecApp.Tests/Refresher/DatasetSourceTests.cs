using System.CommandLine;
using RecApp.Engine.Datasets;
using RecApp.Data;
using RecApp.Refresher.Cli;

namespace RecApp.Tests.Refresher;

public sealed class DatasetSourceTests
{
    private static (RootCommand Command, DatasetSource Source) Create()
    {
        var source = new DatasetSource();
        var command = new RootCommand();
        source.AddTo(command);
        return (command, source);
    }

    [Fact]
    public void Synthetic_options_generate_the_requested_dataset()
    {
        var (command, source) = Create();
        var parsed = command.Parse("--synthetic tiny --seed 5");

        Assert.Empty(parsed.Errors);
        var loaded = source.Load(parsed);
        Assert.Equal(SyntheticDatasetSize.Tiny.Interactions, loaded.Dataset.Interactions.Length);
        Assert.Null(loaded.Report);
        Assert.Equal(
            SyntheticDatasetGenerator.Generate(new SyntheticDatasetOptions(SyntheticDatasetSize.Tiny, 5)).Interactions,
            loaded.Dataset.Interactions);
    }

    [Fact]
    public void File_options_import_with_a_report()
    {
        var directory = Directory.CreateTempSubdirectory("recapp-source-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(directory, "items.csv"), "id,title,category\n1,A,books\n");
            File.WriteAllText(Path.Combine(directory, "interactions.csv"), "user_id,item_id,type,occurred_at\n1,1,like,2025-01-01T00:00:00Z\n1,2,like,2025-01-01T00:00:00Z\n");
            var (command, source) = Create();
            var parsed = command.Parse(["--format", "generic", "--path", directory]);

            Assert.Empty(parsed.Errors);
            var loaded = source.Load(parsed);
            Assert.Single(loaded.Dataset.Interactions);
            Assert.Equal(1, loaded.Report!.RejectedRows);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("--synthetic S --format generic --path .")]
    [InlineData("--format generic")]
    [InlineData("--synthetic XXL")]
    public void Ambiguous_or_incomplete_sources_are_parse_errors(string arguments)
    {
        var (command, _) = Create();
        Assert.NotEmpty(command.Parse(arguments).Errors);
    }
}
