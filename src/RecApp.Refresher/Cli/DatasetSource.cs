using System.CommandLine;
using RecApp.Engine.Domain;
using RecApp.Data.Migrations;
using RecApp.Data.Source;
using RecApp.Engine.Datasets;

namespace RecApp.Refresher.Cli;

/// <summary>A dataset loaded by <see cref="DatasetSource"/>, with the import report when it came from files.</summary>
public sealed record LoadedDataset(Dataset Dataset, ImportReport? Report, string Description);

/// <summary>
/// Where a verb gets its data in memory: <c>--synthetic tiny|S|L [--seed N]</c> or <c>--format F --path DIR</c>.
/// Add it to any command (<see cref="AddTo"/>) and call <see cref="Load"/> in the action; the database is not touched.
/// </summary>
public sealed class DatasetSource
{
    public Option<string?> Synthetic { get; } = new("--synthetic")
    {
        Description = "Generate synthetic data of this size: tiny, S or L.",
    };

    public Option<int> Seed { get; } = new("--seed")
    {
        Description = "Random seed of the synthetic data.",
        DefaultValueFactory = _ => 42,
    };

    public Option<string?> Format { get; } = new("--format")
    {
        Description = $"Read files in this layout: {string.Join(", ", DatasetImportFormat.All)}.",
    };

    public Option<DirectoryInfo?> Path { get; } = new("--path")
    {
        Description = "Directory holding the files to read (with --format).",
    };

    public void AddTo(Command command)
    {
        Synthetic.AcceptOnlyFromAmong([.. SyntheticDatasetSize.All.Select(s => s.Name)]);
        Format.AcceptOnlyFromAmong([.. DatasetImportFormat.All]);
        command.Options.Add(Synthetic);
        command.Options.Add(Seed);
        command.Options.Add(Format);
        command.Options.Add(Path);
        command.Validators.Add(result =>
        {
            // Presence only: reading a value here would throw for a value the option itself rejects.
            var synthetic = result.GetResult(Synthetic) is not null;
            var files = result.GetResult(Format) is not null;
            if (synthetic == files)
            {
                result.AddError("Give either --synthetic SIZE or --format FORMAT --path DIR.");
            }
            else if (files && result.GetResult(Path) is null)
            {
                result.AddError("--format needs --path DIR.");
            }
        });
    }

    /// <summary>Generates or imports, as the parsed options say. Import layout errors throw <see cref="DatasetImportException"/>.</summary>
    public LoadedDataset Load(ParseResult parseResult)
    {
        if (parseResult.GetValue(Synthetic) is { } sizeName)
        {
            var size = SyntheticDatasetSize.Parse(sizeName);
            var seed = parseResult.GetValue(Seed);
            return new LoadedDataset(
                SyntheticDatasetGenerator.Generate(new SyntheticDatasetOptions(size, seed)), null, $"synthetic {size.Name}, seed {seed}");
        }
        var format = parseResult.GetValue(Format)!;
        var path = parseResult.GetValue(Path)!.FullName;
        var imported = DatasetImportFormat.Import(format, path);
        return new LoadedDataset(imported.Dataset, imported.Report, $"{format} from {path}");
    }
}
