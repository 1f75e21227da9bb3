using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Npgsql;
using RecApp.Data;
using RecApp.Data.Migrations;
using RecApp.Refresher.Evaluation;
using RecApp.Engine.Datasets;
using RecApp.Engine.Model;
using RecApp.Engine.Embeddings;
using RecApp.Data.Models;
using RecApp.Refresher.Jobs;
using Spectre.Console;

namespace RecApp.Refresher.Cli;

/// <summary>
/// <c>evaluate … --served-by URL</c> (docs/EVALUATION.md, "Served after import"): the evaluator's split, its training
/// part imported into the empty <c>ConnectionStrings:recdb</c> the API at URL reads, built by the Refresher's jobs in
/// this process, every test user's list asked of the API over HTTP and measured next to the evaluator's in-memory
/// hybrid with the same metric code. Exit code 3 when the two nDCG figures differ by more than <see cref="Tolerance"/>.
/// </summary>
internal static class EvaluateServedAction
{
    /// <summary>Issue 9's target: the served answer after import equals the evaluator's figure within this.</summary>
    public const double Tolerance = 0.01;

    private static readonly TimeSpan s_switchDeadline = TimeSpan.FromMinutes(3);
    private static readonly TimeSpan s_serveDeadline = TimeSpan.FromMinutes(10);

    private static readonly JsonSerializerOptions s_json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    public static Option<Uri?> ServedByOption()
    {
        var option = new Option<Uri?>("--served-by")
        {
            Description = "Base URL of a running API (e.g. http://127.0.0.1:5080) on the empty database of ConnectionStrings:recdb: " +
                          "import the training part there, build it with the Refresher's jobs and measure what the API serves.",
            CustomParser = result =>
            {
                var text = result.Tokens.Single().Value;
                if (Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https")
                {
                    return uri;
                }
                result.AddError($"--served-by must be an absolute http(s) URL, got '{text}'.");
                return null;
            },
        };
        return option;
    }

    public static async Task<int> RunAsync(
        LoadedDataset loaded, EvaluationOptions options, Uri api, FileInfo? json, TextWriter output, CancellationToken cancellationToken)
    {
        using var host = RefresherCommandLine.BuildToolHost(services => services.AddModelJobs());
        // First, so an API started on the empty database finds the schema while the evaluator builds.
        await host.Services.GetRequiredService<DatabaseMigrator>().MigrateAsync(cancellationToken);

        var timings = new Dictionary<string, double>();
        var watch = Stopwatch.StartNew();
        var run = AnsiConsole.Status().Start($"Splitting and building in memory on {loaded.Description}...",
            _ => OfflineEvaluator.Prepare(loaded.Dataset, options));
        timings["evaluator_build_s"] = Lap(watch);
        using var client = new HttpClient { BaseAddress = AsBase(api), Timeout = TimeSpan.FromSeconds(30) };
        var served = new ServedEvaluation(host.Services.GetRequiredService<NpgsqlDataSource>(), host.Services.GetServices<IModelJob>(), client,
            host.Services.GetRequiredService<ILoggerFactory>());

        var files = Directory.CreateTempSubdirectory("recapp-served-");
        ServedList[] lists;
        long version;
        ModelTuning? servedTuning;
        try
        {
            var load = await AnsiConsole.Status().StartAsync("Writing the training part as generic files, importing and loading it...",
                _ => served.ImportTrainingPartAsync(run, files.FullName, cancellationToken));
            timings["import_s"] = Lap(watch);
            output.WriteLine($"Imported {load.Items:N0} items, {load.Users:N0} users, {load.Interactions:N0} interactions (the training part).");
            version = await AnsiConsole.Status().StartAsync("Building with the Refresher's jobs (popular, profiles, similarities)...",
                _ => served.BuildAsync(cancellationToken));
            timings["jobs_s"] = Lap(watch);
            servedTuning = await AnsiConsole.Status().StartAsync($"Waiting for {api} to serve model version {version}...",
                _ => served.WaitUntilServedAsync(version, s_switchDeadline, cancellationToken));
            timings["switch_s"] = Lap(watch);
            lists = await AnsiConsole.Status().StartAsync($"Asking {api} for {run.Users.Length:N0} users' top {options.K}...",
                _ => served.ServeAsync(run.Users, options.K, version, s_serveDeadline, cancellationToken));
            timings["serve_s"] = Lap(watch);
        }
        catch (Exception ex) when (ex is InvalidOperationException or DatasetImportException or TimeoutException or HttpRequestException or PostgresException)
        {
            AnsiConsole.MarkupLineInterpolated($"[red]Served evaluation failed:[/] {ex.Message}");
            return 1;
        }
        finally
        {
            files.Delete(recursive: true);
        }

        var comparison = ServedEvaluation.Compare(run, lists, servedTuning, options.K);
        var within = Math.Abs(comparison.NdcgDifference) <= Tolerance;
        var restriction = options.MinItemTrainUsers > 1 ? $", items with at least {options.MinItemTrainUsers} train users" : "";
        output.WriteLine($"Served evaluation on {loaded.Description} (split seed {options.Seed}, test fraction {options.TestFraction}{restriction}), " +
                         $"API {api}, model version {version}:");
        output.WriteLine();
        var k = options.K.ToString(CultureInfo.InvariantCulture);
        output.WriteLine($"| list | P@{k} | R@{k} | nDCG@{k} | MAP@{k} | coverage | users |");
        output.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
        output.WriteLine(Row("evaluator, in memory (hybrid)", comparison.Evaluated));
        output.WriteLine(Row("**served over HTTP after import**", comparison.Served));
        output.WriteLine();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"nDCG@{k} served − evaluator: {comparison.NdcgDifference:+0.0000;-0.0000;0.0000} ({(within ? "within" : "OUTSIDE")} ±{Tolerance}); " +
            $"identical top {k}: {comparison.SameLists} of {comparison.Users} users; same algorithm_used: {comparison.SameAlgorithm} of {comparison.Users}; " +
            $"the Refresher's build chose the evaluator's settings: {(comparison.SameSettings ? "yes" : "no")}."));
        foreach (var d in comparison.Differences.Take(10))
        {
            output.WriteLine($"  user {d.UserId}: evaluator {d.EvaluatedAlgorithm} [{string.Join(',', d.Evaluated)}], served {d.ServedAlgorithm} [{string.Join(',', d.Served)}]");
        }
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Times (s): evaluator build {timings["evaluator_build_s"]:F1}, import {timings["import_s"]:F1}, jobs {timings["jobs_s"]:F1}, " +
            $"API switch {timings["switch_s"]:F1}, serving {timings["serve_s"]:F1}."));
        if (json is not null)
        {
            File.WriteAllText(json.FullName, JsonSerializer.Serialize(new { comparison, timings }, s_json));
            output.WriteLine($"JSON written to {json.FullName}.");
        }
        return within ? 0 : 3;
    }

    private static string Row(string name, SourceMetrics m) => string.Create(CultureInfo.InvariantCulture,
        $"| {name} | {m.PrecisionAtK:F4} | {m.RecallAtK:F4} | {m.NdcgAtK:F4} | {m.MapAtK:F4} | {m.Coverage:F4} | {m.Users} |");

    private static double Lap(Stopwatch watch)
    {
        var seconds = watch.Elapsed.TotalSeconds;
        watch.Restart();
        return Math.Round(seconds, 1);
    }

    /// <summary>Relative paths resolve under the base only when it ends with a slash.</summary>
    private static Uri AsBase(Uri api) => api.AbsoluteUri.EndsWith('/') ? api : new Uri(api.AbsoluteUri + "/");
}
