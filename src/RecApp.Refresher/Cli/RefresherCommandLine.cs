using System.CommandLine;
using Microsoft.Extensions.Options;
using Npgsql;
using RecApp.Engine;
using RecApp.Engine.Domain;
using RecApp.Data;
using RecApp.Data.Migrations;
using RecApp.Refresher.Evaluation;
using RecApp.Engine.Datasets;
using RecApp.Engine.Training;
using RecApp.Engine.Embeddings;
using RecApp.Data.Models;
using RecApp.Refresher.Jobs;
using RecApp.ServiceDefaults;
using Spectre.Console;

namespace RecApp.Refresher.Cli;

/// <summary>
/// The Refresher's command line: no verb runs the worker; <c>generate</c> generates and loads synthetic data;
/// <c>import</c> loads MovieLens or generic files; <c>evaluate</c> measures the engine offline, in memory (with
/// <c>--served-by</c>, through import, the build jobs and a running API: <see cref="EvaluateServedAction"/>). Data verbs read <c>ConnectionStrings:recdb</c> like the worker,
/// apply migrations, and load in one transaction (a failure loads nothing).
/// </summary>
public static class RefresherCommandLine
{
    public static RootCommand Create(Func<CancellationToken, Task<int>> runWorker)
    {
        var root = new RootCommand("RecApp Refresher: keeps the recommendation model fresh. Without a verb it runs the worker.")
        {
            // Host arguments such as --environment or Refresher:X=Y pass through to the worker's configuration.
            TreatUnmatchedTokensAsErrors = false,
        };
        root.SetAction((_, cancellationToken) => runWorker(cancellationToken));
        root.Subcommands.Add(GenerateCommand());
        root.Subcommands.Add(ImportCommand());
        root.Subcommands.Add(EvaluateCommand());
        return root;
    }

    private static Command GenerateCommand()
    {
        var size = new Option<string>("--size")
        {
            Description = "Dataset size: tiny (tests), S (16k items, 50k users, 1.4M interactions), L (100k, 200k, 5M), XL (1M, 2M, 50M).",
            Required = true,
        };
        size.AcceptOnlyFromAmong([.. SyntheticDatasetSize.All.Select(s => s.Name)]);
        var seed = new Option<int>("--seed") { Description = "Random seed; the same seed gives the same data.", DefaultValueFactory = _ => 42 };
        var ifEmpty = new Option<bool>("--if-empty") { Description = "Do nothing when the catalog already has items." };
        var end = new Option<DateTime?>("--end")
        {
            Description = $"UTC date the generated history ends at (default {SyntheticDatasetOptions.DefaultReferenceEnd:yyyy-MM-dd}, fixed for reproducibility).",
        };
        var command = new Command("generate", "Generate synthetic catalog, users and interactions and bulk-load them.") { size, seed, ifEmpty, end };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            using var host = BuildToolHost();
            var loader = await PrepareAsync(host, cancellationToken);
            if (parseResult.GetValue(ifEmpty) && !await loader.IsEmptyAsync(cancellationToken))
            {
                AnsiConsole.MarkupLine("The catalog already has items: nothing to do ([grey]--if-empty[/]).");
                return 0;
            }
            var options = new SyntheticDatasetOptions(SyntheticDatasetSize.Parse(parseResult.GetValue(size)!), parseResult.GetValue(seed))
            {
                ReferenceEnd = parseResult.GetValue(end) is { } date
                    ? DateTime.SpecifyKind(date.Date, DateTimeKind.Utc)
                    : SyntheticDatasetOptions.DefaultReferenceEnd,
            };
            var started = System.Diagnostics.Stopwatch.StartNew();
            var dataset = AnsiConsole.Status().Start($"Generating {options.Size.Name} (seed {options.Seed})...",
                _ => SyntheticDatasetGenerator.Generate(options));
            AnsiConsole.MarkupLine($"Generated {dataset.Items.Count:N0} items, {dataset.Users.Count:N0} users, " +
                                   $"{dataset.Interactions.Length:N0} interactions in {started.Elapsed.TotalSeconds:F1} s.");
            return await LoadAsync(loader, dataset, cancellationToken);
        });
        return command;
    }

    private static Command ImportCommand()
    {
        var format = new Option<string>("--format") { Description = $"File layout: {string.Join(", ", DatasetImportFormat.All)}.", Required = true };
        format.AcceptOnlyFromAmong([.. DatasetImportFormat.All]);
        var path = new Option<DirectoryInfo>("--path") { Description = "Directory holding the files.", Required = true };
        path.AcceptExistingOnly();
        var strict = new Option<bool>("--strict") { Description = "Load nothing when any row is rejected." };
        var command = new Command("import", "Import MovieLens or generic CSV/JSON-lines files (docs/DATA-FORMATS.md).") { format, path, strict };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            ImportResult imported;
            try
            {
                imported = DatasetImportFormat.Import(parseResult.GetValue(format)!, parseResult.GetValue(path)!.FullName);
            }
            catch (DatasetImportException ex)
            {
                AnsiConsole.MarkupLineInterpolated($"[red]Import failed:[/] {ex.Message}");
                return 1;
            }
            AnsiConsole.Write(new Text(imported.Report.Format()));
            if (imported.Report.HasProblems && parseResult.GetValue(strict))
            {
                AnsiConsole.MarkupLineInterpolated($"[red]{imported.Report.RejectedRows} rows rejected and --strict given: nothing loaded.[/]");
                return 2;
            }
            using var host = BuildToolHost();
            var loader = await PrepareAsync(host, cancellationToken);
            return await LoadAsync(loader, imported.Dataset, cancellationToken);
        });
        return command;
    }

    /// <summary>
    /// Offline evaluation (docs/EVALUATION.md): the dataset from <see cref="DatasetSource"/>, split per user, the model
    /// built on train with the production builders, top K per source and for the hybrid. No database.
    /// </summary>
    private static Command EvaluateCommand()
    {
        var defaults = new EvaluationOptions();
        var source = new DatasetSource();
        var k = new Option<int>("--k") { Description = "List length K of the metrics.", DefaultValueFactory = _ => defaults.K };
        var testFraction = new Option<double>("--test-fraction")
        {
            Description = "Share of each user's distinct items held out for testing.",
            DefaultValueFactory = _ => defaults.TestFraction,
        };
        var splitSeed = new Option<int>("--split-seed") { Description = "Random seed of the split.", DefaultValueFactory = _ => defaults.Seed };
        var maxUsers = new Option<int>("--max-users")
        {
            Description = "Test users scored at most (a seeded sample; 0 = all).",
            DefaultValueFactory = _ => defaults.MaxUsers,
        };
        var minItemUsers = new Option<int>("--min-item-train-users")
        {
            Description = "Protocol restriction: only items with at least this many users in train are candidates and test items (Last.fm reference: 5).",
            DefaultValueFactory = _ => defaults.MinItemTrainUsers,
        };
        var rebuildFrom = new Option<double?>("--rebuild-from")
        {
            Description = "Evaluate a rebuild: first build on this share of the train data (its oldest interactions), then rebuild on all of it keeping that build's choices and embedding vectors, as the Refresher's later builds do.",
        };
        var json = new Option<FileInfo?>("--json") { Description = "Also write the report as JSON to this file." };
        var golden = new Option<FileInfo?>("--golden")
        {
            Description = "Only write what is served to each test user, one line each (user, algorithm, a digest of the top K), to this file: bench/golden/run.sh compares these before and after a change.",
        };
        var servedBy = EvaluateServedAction.ServedByOption();
        var command = new Command("evaluate", "Evaluate the engine offline on synthetic or imported data (precision, recall, nDCG, MAP, coverage at K).")
        {
            k, testFraction, splitSeed, maxUsers, minItemUsers, rebuildFrom, json, golden, servedBy,
        };
        source.AddTo(command);
        command.Validators.Add(result =>
        {
            if (result.GetResult(k) is not null && result.GetValue(k) < 1)
            {
                result.AddError("--k must be at least 1.");
            }
            if (result.GetResult(testFraction) is not null && result.GetValue(testFraction) is <= 0 or >= 1)
            {
                result.AddError("--test-fraction must be between 0 and 1 (exclusive).");
            }
            if (result.GetResult(maxUsers) is not null && result.GetValue(maxUsers) < 0)
            {
                result.AddError("--max-users must be 0 (all) or more.");
            }
            if (result.GetValue(rebuildFrom) is { } share && share is not (> 0 and < 1))
            {
                result.AddError("--rebuild-from must be between 0 and 1 (exclusive).");
            }
            if (result.GetValue(rebuildFrom) is not null && result.GetResult(servedBy) is not null)
            {
                result.AddError("--rebuild-from measures a rebuild offline; --served-by serves a first build: use one of them.");
            }
            if (result.GetResult(minItemUsers) is not null && result.GetValue(minItemUsers) < 0)
            {
                result.AddError("--min-item-train-users must be 0 (no restriction) or more.");
            }
        });
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            LoadedDataset loaded;
            try
            {
                loaded = AnsiConsole.Status().Start("Loading the dataset...", _ => source.Load(parseResult));
            }
            catch (DatasetImportException ex)
            {
                AnsiConsole.MarkupLineInterpolated($"[red]Import failed:[/] {ex.Message}");
                return 1;
            }
            if (loaded.Report is { HasProblems: true } report)
            {
                AnsiConsole.Write(new Text(report.Format()));
            }
            var options = new EvaluationOptions
            {
                Model = ModelOptions(),
                K = parseResult.GetValue(k),
                TestFraction = parseResult.GetValue(testFraction),
                Seed = parseResult.GetValue(splitSeed),
                MaxUsers = parseResult.GetValue(maxUsers),
                MinItemTrainUsers = parseResult.GetValue(minItemUsers),
                RebuildFrom = parseResult.GetValue(rebuildFrom),
            };
            if (parseResult.GetValue(servedBy) is { } api)
            {
                return await EvaluateServedAction.RunAsync(loaded, options, api, parseResult.GetValue(json),
                    parseResult.InvocationConfiguration.Output, cancellationToken);
            }
            if (parseResult.GetValue(golden) is { } goldenFile)
            {
                var lines = AnsiConsole.Status().Start($"Serving every test user of {loaded.Description}...",
                    _ => GoldenLists.Write(loaded.Dataset, options, goldenFile.FullName));
                parseResult.InvocationConfiguration.Output.WriteLine($"{lines} users' lists written to {goldenFile.FullName}.");
                return 0;
            }
            var evaluation = AnsiConsole.Status().Start($"Evaluating on {loaded.Description}...",
                _ => OfflineEvaluator.Evaluate(loaded.Dataset, options));
            // Plain text, not markup: the table is markdown meant to be pasted into docs/EVALUATION.md.
            var output = parseResult.InvocationConfiguration.Output;
            var restriction = options.MinItemTrainUsers > 1 ? $", items with at least {options.MinItemTrainUsers} train users" : "";
            output.WriteLine($"Evaluation on {loaded.Description} (split seed {options.Seed}, test fraction {options.TestFraction}{restriction}):");
            output.WriteLine();
            output.Write(evaluation.ToTable());
            if (parseResult.GetValue(json) is { } file)
            {
                File.WriteAllText(file.FullName, evaluation.ToJson());
                output.WriteLine($"JSON written to {file.FullName}.");
            }
            return 0;
        });
        return command;
    }

    /// <summary>
    /// The engine options the worker would use (appsettings, environment such as <c>Recommendations__Scoring__ItemKnnShare</c>,
    /// the contract's names), so an evaluation measures the configuration that is deployed. Validated: a bad value ends
    /// the verb naming it.
    /// </summary>
    private static RecommendationOptions ModelOptions()
    {
        var builder = ToolHostBuilder();
        builder.Services.AddRecommendationOptions();
        using var host = builder.Build();
        return host.Services.GetRequiredService<IOptions<RecommendationOptions>>().Value;
    }

    /// <summary>Configuration and logging as the worker gets them (appsettings, environment, the contract's names), without the worker.</summary>
    private static HostApplicationBuilder ToolHostBuilder()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = AppContext.BaseDirectory });
        // Progress bars, not log lines, show what a data verb is doing.
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Npgsql"] = "Warning",
        });
        builder.AddServiceDefaults();
        return builder;
    }

    /// <summary>The tool host with the data source (the data verbs).</summary>
    internal static IHost BuildToolHost(Action<IServiceCollection>? addServices = null)
    {
        var builder = ToolHostBuilder();
        builder.AddPostgresDataSource("recdb");
        builder.Services.AddSingleton<DatabaseMigrator>(); // generate and import apply the schema themselves (PrepareAsync)
        builder.Services.AddSingleton<DatasetBulkLoader>();
        addServices?.Invoke(builder.Services);
        return builder.Build();
    }

    private static async Task<DatasetBulkLoader> PrepareAsync(IHost host, CancellationToken cancellationToken)
    {
        await host.Services.GetRequiredService<DatabaseMigrator>().MigrateAsync(cancellationToken);
        return host.Services.GetRequiredService<DatasetBulkLoader>();
    }

    private static async Task<int> LoadAsync(DatasetBulkLoader loader, Dataset dataset, CancellationToken cancellationToken)
    {
        try
        {
            var result = await AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                .StartAsync(async context =>
                {
                    var tasks = new Dictionary<string, ProgressTask>
                    {
                        ["items"] = context.AddTask("items", maxValue: Math.Max(1, dataset.Items.Count)),
                        ["users"] = context.AddTask("users", maxValue: Math.Max(1, dataset.Users.Count)),
                        ["interactions"] = context.AddTask("interactions", maxValue: Math.Max(1, dataset.Interactions.Length)),
                        ["indexes"] = context.AddTask("indexes, commit", maxValue: 1),
                    };
                    var loaded = await loader.LoadAsync(dataset, new ProgressTasks(tasks), cancellationToken);
                    foreach (var task in tasks.Values)
                    {
                        task.Value = task.MaxValue;
                    }
                    return loaded;
                });
            AnsiConsole.MarkupLine($"[green]Loaded[/] {result.Items:N0} items, {result.Users:N0} users, {result.Interactions:N0} interactions " +
                                   $"in {result.Elapsed.TotalSeconds:F1} s.");
            return 0;
        }
        catch (PostgresException ex)
        {
            AnsiConsole.MarkupLineInterpolated($"[red]Load failed, nothing was loaded:[/] {ex.MessageText} (table {ex.TableName ?? "?"}).");
            return 1;
        }
    }

    /// <summary>Updates the bars synchronously (a <see cref="Progress{T}"/> would post out of order to the thread pool).</summary>
    private sealed class ProgressTasks(Dictionary<string, ProgressTask> tasks) : IProgress<BulkLoadProgress>
    {
        public void Report(BulkLoadProgress value)
        {
            if (tasks.TryGetValue(value.Table, out var task))
            {
                task.Value = value.Table == "indexes" ? 0.5 : value.Written;
            }
        }
    }
}
