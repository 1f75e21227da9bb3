using System.Globalization;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using RecApp.Engine.Domain;
using RecApp.Engine.Model;
using RecApp.Engine.Datasets;
using RecApp.Data;
using RecApp.Refresher.Jobs;
using RecApp.Data.Jobs;

namespace RecApp.Refresher.Evaluation;

/// <summary>One test user's answer as the API served it over HTTP.</summary>
public sealed record ServedList(long UserId, long[] Items, string AlgorithmUsed, long ModelVersion);

/// <summary>A test user whose served top K is not the evaluator's.</summary>
public sealed record ServedDifference(long UserId, string EvaluatedAlgorithm, long[] Evaluated, string ServedAlgorithm, long[] Served);

/// <summary>The evaluator's in-memory hybrid and the served answers, measured with the same metric code.</summary>
public sealed record ServedComparison(
    SourceMetrics Evaluated, SourceMetrics Served, int Users, int SameLists, int SameAlgorithm, long ModelVersion,
    ModelTuning EvaluatedTuning, ModelTuning? ServedTuning, IReadOnlyList<ServedDifference> Differences)
{
    /// <summary>Served minus evaluated nDCG@K.</summary>
    public double NdcgDifference => Served.NdcgAtK - Evaluated.NdcgAtK;

    /// <summary>
    /// Whether the Refresher's build chose what the evaluator's build chose (the time each took aside): the tuning
    /// stops at a CPU budget, so on a loaded machine two builds of the same data may differ, and so may their lists.
    /// </summary>
    public bool SameSettings => ServedTuning is not null && EvaluatedTuning with { TuningSeconds = 0 } == ServedTuning with { TuningSeconds = 0 };
}

/// <summary>
/// The over-HTTP half of the one-scoring-path check (issue 9): an <see cref="EvaluationRun"/>'s training part goes the
/// production way — written as generic import files, read back by the importer, bulk-loaded into PostgreSQL by
/// <see cref="DatasetBulkLoader"/>, built by the Refresher's jobs — and every test user's list is then asked of a
/// running API over HTTP and measured with <see cref="OfflineEvaluator.Measure"/> next to the in-memory figure.
/// </summary>
public sealed class ServedEvaluation(NpgsqlDataSource dataSource, IEnumerable<IModelJob> jobs, HttpClient api, ILoggerFactory? loggers = null)
{
    /// <summary>The jobs that publish the model the API serves, in the order the Refresher starts them.</summary>
    public static readonly IReadOnlyList<string> BuildJobs = [JobNames.Popular, JobNames.Profiles, JobNames.Similarities];

    private static readonly JsonSerializerOptions s_wire = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private readonly ILogger _logger = (loggers ?? NullLoggerFactory.Instance).CreateLogger<ServedEvaluation>();

    /// <summary>
    /// Writes <paramref name="run"/>'s training part (with the protocol's inactive items) as generic JSON-lines files in
    /// <paramref name="directory"/>, imports them and loads them. The database must have no items yet; a rejected row
    /// fails the whole step, since the served side would then see other data than the evaluator.
    /// </summary>
    public async Task<BulkLoadResult> ImportTrainingPartAsync(EvaluationRun run, string directory, CancellationToken cancellationToken = default)
    {
        var loader = new DatasetBulkLoader(dataSource, (loggers ?? NullLoggerFactory.Instance).CreateLogger<DatasetBulkLoader>());
        if (!await loader.IsEmptyAsync(cancellationToken))
        {
            throw new InvalidOperationException("The database already has items: the served evaluation needs an empty database.");
        }
        GenericDatasetWriter.Write(run.Train, directory);
        var imported = DatasetImportFormat.Import(DatasetImportFormat.Generic, directory);
        if (imported.Report.HasProblems)
        {
            throw new InvalidOperationException($"The written training part did not import cleanly:\n{imported.Report.Format(10)}");
        }
        return await loader.LoadAsync(imported.Dataset, cancellationToken: cancellationToken);
    }

    /// <summary>Runs the build jobs (<see cref="BuildJobs"/>) and returns the model version they published.</summary>
    public async Task<long> BuildAsync(CancellationToken cancellationToken = default)
    {
        var byName = jobs.ToDictionary(j => j.Name);
        long version = 0;
        foreach (var name in BuildJobs)
        {
            var result = await byName[name].RunAsync(cancellationToken);
            version = Math.Max(version, result.ModelVersion ?? 0);
            _logger.LogInformation("Job {Job} published version {Version}.", name, result.ModelVersion);
        }
        return version;
    }

    /// <summary>
    /// Polls <c>GET /stats</c> until the API serves <paramref name="version"/> (or later), or the deadline passes;
    /// returns what that model's build chose (<c>model.tuning</c>).
    /// </summary>
    public async Task<ModelTuning?> WaitUntilServedAsync(long version, TimeSpan deadline, CancellationToken cancellationToken = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(deadline);
        long serving = -1;
        try
        {
            while (true)
            {
                try
                {
                    using var response = await api.GetAsync("stats", timeout.Token);
                    if (response.IsSuccessStatusCode)
                    {
                        using var stats = JsonDocument.Parse(await response.Content.ReadAsStringAsync(timeout.Token));
                        var model = stats.RootElement.GetProperty("model");
                        serving = model.GetProperty("serving_version").GetInt64();
                        if (serving >= version)
                        {
                            return model.TryGetProperty("tuning", out var tuning) ? tuning.Deserialize<ModelTuning>(s_wire) : null;
                        }
                    }
                }
                catch (HttpRequestException ex)
                {
                    // Still starting (connection refused): keep asking until the deadline.
                    _logger.LogDebug(ex, "The API at {Api} did not answer yet.", api.BaseAddress);
                }
                await Task.Delay(TimeSpan.FromMilliseconds(250), timeout.Token);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException(
                $"The API at {api.BaseAddress} still served model version {serving} after {deadline.TotalSeconds:F0} s; version {version} was published.");
        }
    }

    /// <summary>
    /// <c>GET /users/{id}/recommendations?limit=K</c> for every user, a few at a time. An answer from an older model
    /// (another replica that has not switched yet) or a 429/503 is asked again until <paramref name="deadline"/>.
    /// </summary>
    public async Task<ServedList[]> ServeAsync(IReadOnlyList<long> users, int k, long version, TimeSpan deadline, CancellationToken cancellationToken = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(deadline);
        var lists = new ServedList[users.Count];
        await Parallel.ForAsync(0, users.Count, new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = timeout.Token },
            async (i, token) => lists[i] = await ServeOneAsync(users[i], k, version, token));
        return lists;
    }

    private async Task<ServedList> ServeOneAsync(long userId, int k, long version, CancellationToken cancellationToken)
    {
        var path = string.Create(CultureInfo.InvariantCulture, $"users/{userId}/recommendations?limit={k}");
        while (true)
        {
            using var response = await api.GetAsync(path, cancellationToken);
            if (response.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable)
            {
                var wait = response.Headers.RetryAfter?.Delta ?? TimeSpan.FromMilliseconds(200);
                await Task.Delay(wait < TimeSpan.FromSeconds(5) ? wait : TimeSpan.FromSeconds(5), cancellationToken);
                continue;
            }
            response.EnsureSuccessStatusCode();
            using var answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
            var root = answer.RootElement;
            var served = new ServedList(userId,
                [.. root.GetProperty("items").EnumerateArray().Select(e => e.GetInt64())],
                root.GetProperty("algorithm_used").GetString() ?? "",
                root.GetProperty("model_version").GetInt64());
            if (served.ModelVersion >= version)
            {
                return served;
            }
            await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken);
        }
    }

    /// <summary>The served lists next to the evaluator's hybrid for the same users, through the same metric code.</summary>
    public static ServedComparison Compare(EvaluationRun run, IReadOnlyList<ServedList> served, ModelTuning? servedTuning, int k)
    {
        var evaluated = run.Users.Select(u => run.For(u)).ToArray();
        var truth = run.Users.Select(u => run.Test[u]).ToArray();
        var byUser = served.ToDictionary(s => s.UserId);
        var servedLists = run.Users.Select(u => byUser[u].Items).ToArray();
        var evaluatedLists = evaluated.Select(l => l.ItemIds.Take(k).ToArray()).ToArray();
        var same = 0;
        var sameAlgorithm = 0;
        var differences = new List<ServedDifference>();
        for (var i = 0; i < run.Users.Length; i++)
        {
            var answer = byUser[run.Users[i]];
            var algorithm = evaluated[i].Algorithm.ToWireName();
            same += evaluatedLists[i].SequenceEqual(servedLists[i]) ? 1 : 0;
            sameAlgorithm += algorithm == answer.AlgorithmUsed ? 1 : 0;
            if (!evaluatedLists[i].SequenceEqual(servedLists[i]) || algorithm != answer.AlgorithmUsed)
            {
                differences.Add(new ServedDifference(answer.UserId, algorithm, evaluatedLists[i], answer.AlgorithmUsed, answer.Items));
            }
        }
        return new ServedComparison(
            OfflineEvaluator.Measure("hybrid", evaluatedLists, truth, k, run.CandidateItems),
            OfflineEvaluator.Measure("served", servedLists, truth, k, run.CandidateItems),
            run.Users.Length, same, sameAlgorithm, served.Count == 0 ? 0 : served.Min(s => s.ModelVersion), run.Model.Tuning, servedTuning, differences);
    }

    /// <summary>The API's name of a tier's algorithm (<c>algorithm_used</c>).</summary>
}
