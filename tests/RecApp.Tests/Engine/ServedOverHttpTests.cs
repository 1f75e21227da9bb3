using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using RecApp.Engine.Domain;
using RecApp.Data.Migrations;
using RecApp.Refresher.Evaluation;
using RecApp.Engine;
using RecApp.Engine.Training;
using RecApp.Engine.Embeddings;
using RecApp.Data.Models;
using RecApp.Api.Model;
using RecApp.Refresher.Jobs;
using RecApp.Tests.Infrastructure;

namespace RecApp.Tests.Engine;

/// <summary>
/// The over-HTTP half of the one scoring path (issue 9): the evaluator's training part, written as import files,
/// imported and bulk-loaded into PostgreSQL, built by the Refresher's jobs and served by the API over HTTP, gives every
/// test user the evaluator's list and tier.
/// </summary>
public sealed class ServedOverHttpTests
{
    // The build's settings, the same for the evaluator, the jobs and the API (the API only scores with them).
    private static readonly Dictionary<string, string?> s_model = new()
    {
        ["Recommendations:Tuning:Budget"] = "00:10:00", // never reached here: both builds make the same choices
        ["Recommendations:Tuning:Users"] = "200",
    };

    public static TheoryData<string, int> Cases => new()
    {
        { "synthetic", 0 },
        { "synthetic", 3 }, // the Last.fm protocol's restriction: rarely seen items imported as inactive, never served
        { SharedDatasets.MovieLensSmall.Folder, 0 },
        { SharedDatasets.MovieLensSmall.Folder, 3 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Imported_built_and_served_over_http_the_lists_are_the_evaluators(string name, int minItemTrainUsers)
    {
        var data = OneScoringPathTests.Slice(name);
        var run = OfflineEvaluator.Prepare(data, new EvaluationOptions
        {
            Model = new RecommendationOptions { Tuning = { Budget = TimeSpan.FromMinutes(10), Users = 200 } },
            MaxUsers = 0,
            MinItemTrainUsers = minItemTrainUsers,
        });
        Assert.NotEmpty(run.Users);
        // The restriction deactivates items beyond those the data itself has inactive, and only when it applies.
        var inactiveInData = data.Items.Where(i => !i.Active).Select(i => i.Id).ToHashSet();
        Assert.Equal(minItemTrainUsers > 1, run.Train.Items.Any(i => !i.Active && !inactiveInData.Contains(i.Id)));

        var postgres = await TestServers.Postgres;
        var redis = await TestServers.Redis;
        var connectionString = await postgres.CreateDatabaseAsync("served");
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await new DatabaseMigrator(dataSource, NullLogger<DatabaseMigrator>.Instance).MigrateAsync(); // as the import verb does

        // The API runs from the start, on the empty database, and must find the model the jobs publish by itself.
        await using var api = new ApiFactory(connectionString, redis.ConnectionString, new Dictionary<string, string?>(s_model)
        {
            ["Caching:KeyPrefix"] = $"served-{Guid.NewGuid():N}:",
            ["RateLimiting:Enabled"] = "false",
            ["Api:WarmUsers"] = "0",
            ["Api:ModelPollInterval"] = "00:00:00.200",
            ["Recommendations:Store:SnapshotPollInterval"] = "00:00:00.200",
            ["Logging:LogLevel:Default"] = "Warning",
        });
        using var client = api.CreateClient();
        await using var jobs = new ServiceCollection().AddLogging()
            .AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(s_model).Build())
            .AddSingleton(dataSource)
            .AddModelJobs()
            .BuildServiceProvider();
        var served = new ServedEvaluation(dataSource, jobs.GetServices<IModelJob>(), client);

        var files = Directory.CreateTempSubdirectory("recapp-served-");
        try
        {
            var loaded = await served.ImportTrainingPartAsync(run, files.FullName);
            Assert.Equal(run.Train.Interactions.Length, loaded.Interactions);
            Assert.True(File.Exists(Path.Combine(files.FullName, "interactions.jsonl")));
        }
        finally
        {
            files.Delete(recursive: true);
        }
        Assert.Equal(run.Train.Items.Count(i => !i.Active),
            await EngineDatabase.ScalarAsync(dataSource, "SELECT count(*) FROM items WHERE NOT active"));
        var version = await served.BuildAsync();
        var servedTuning = await served.WaitUntilServedAsync(version, TimeSpan.FromSeconds(30));
        var lists = await served.ServeAsync(run.Users, 10, version, TimeSpan.FromSeconds(60));

        foreach (var answer in lists)
        {
            var evaluated = run.For(answer.UserId);
            Assert.True(evaluated.ItemIds.Take(10).SequenceEqual(answer.Items),
                $"{name}, user {answer.UserId}: evaluated [{string.Join(',', evaluated.ItemIds.Take(10))}] served [{string.Join(',', answer.Items)}]");
            Assert.Equal(evaluated.Algorithm.ToWireName(), answer.AlgorithmUsed);
            Assert.Equal(version, answer.ModelVersion);
        }
        var comparison = ServedEvaluation.Compare(run, lists, servedTuning, 10);
        Assert.True(comparison.SameSettings, $"served {servedTuning}, evaluated {run.Model.Tuning}");
        Assert.Equal(run.Users.Length, comparison.SameLists);
        Assert.Equal(run.Users.Length, comparison.SameAlgorithm);
        Assert.Equal(comparison.Evaluated.NdcgAtK, comparison.Served.NdcgAtK, 12);
        Assert.True(comparison.Served.NdcgAtK > 0, "the slice's test items must be found at all");
    }
}
