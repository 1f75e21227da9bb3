using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using RecApp.Engine.Domain;
using RecApp.Data.Migrations;
using RecApp.Data.Source;
using RecApp.Refresher.Evaluation;
using RecApp.Engine.Datasets;
using RecApp.Engine;
using RecApp.Engine.Training;
using RecApp.Engine.Embeddings;
using RecApp.Data.Models;
using RecApp.Api.Model;
using RecApp.Refresher.Jobs;
using RecApp.Api.Recommendations;
using RecApp.Data.Jobs;

namespace RecApp.Tests.Engine;

/// <summary>
/// The evaluator measures what the API serves: the same data, imported into PostgreSQL and built by the Refresher's jobs,
/// gives the served <see cref="IRecommender"/> the evaluator's lists; and the served answer excludes the whole history.
/// </summary>
public sealed class OneScoringPathTests
{
    private static readonly Dictionary<string, string?> s_settings = new()
    {
        ["Recommendations:Tuning:Budget"] = "00:10:00", // never reached here: both builds make the same choices
        ["Recommendations:Tuning:Users"] = "200",
    };

    private static ServiceProvider Services(NpgsqlDataSource dataSource, Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection().AddLogging().AddSingleton<IConfiguration>(configuration).AddSingleton(dataSource);
        services.AddModelJobs();
        services.AddRecommender();
        return services.BuildServiceProvider();
    }

    /// <summary>The inputs of the one-scoring-path checks: synthetic data always, MovieLens where it is present.</summary>
    public static TheoryData<string> Slices => ["synthetic", SharedDatasets.MovieLensSmall.Folder];

    /// <summary>
    /// <paramref name="name"/>'s slice: synthetic data, or the first 40 users of MovieLens latest-small read in place
    /// from the shared datasets folder (<see cref="SharedDatasets"/>: skipped where it is absent).
    /// </summary>
    internal static Dataset Slice(string name)
    {
        if (name == "synthetic")
        {
            return TestDatasets.Synthetic(400, 120, 4_000, seed: 9);
        }
        var all = MovieLensLatestImporter.Import(SharedDatasets.Require(SharedDatasets.MovieLensSmall)).Dataset;
        var interactions = all.Interactions.Where(e => e.UserId <= 40).ToArray();
        var rated = interactions.Select(e => e.ItemId).ToHashSet();
        return new Dataset(all.Items.Where(i => rated.Contains(i.Id)).ToArray(), all.Users.Where(u => u.Id <= 40).ToArray(), interactions);
    }

    [Theory]
    [MemberData(nameof(Slices))]
    public async Task Evaluator_and_served_recommender_give_the_same_lists(string name)
    {
        var data = Slice(name);
        var options = new RecommendationOptions { Tuning = { Budget = TimeSpan.FromMinutes(10), Users = 200 } };
        var run = OfflineEvaluator.Prepare(data, new EvaluationOptions { Model = options, MaxUsers = 0 });

        await using var dataSource = await EngineDatabase.CreateAsync();
        await EngineDatabase.LoadAsync(dataSource, run.Train);
        await using var services = Services(dataSource, s_settings);
        long? similaritiesVersion = null;
        foreach (var job in services.GetServices<IModelJob>())
        {
            var result = await job.RunAsync(CancellationToken.None);
            if (job.Name == JobNames.Similarities)
            {
                similaritiesVersion = result.ModelVersion;
            }
        }
        var model = services.GetRequiredService<IGlobalModel>();
        await model.ReloadAsync(CancellationToken.None);
        // The choices travelled through model_versions.details (the time each build took aside).
        Assert.Equal(run.Model.Tuning with { TuningSeconds = 0 }, model.Current.Tuning with { TuningSeconds = 0 });
        // Readable where operators look: the tuning part's version, the one job_runs.model_version names for the job.
        Assert.Equal(1, await EngineDatabase.ScalarAsync(dataSource, $"""
            SELECT count(*) FROM model_versions
             WHERE version = {similaritiesVersion} AND part = '{ModelParts.Tuning.Name}' AND details ? 'validationNdcg'
            """));
        var recommender = services.GetRequiredService<IRecommender>();

        Assert.NotEmpty(run.Users);
        foreach (var userId in run.Users)
        {
            var evaluated = run.For(userId);
            var served = await recommender.ForUserAsync(services.GetRequiredService<IGlobalModel>().Current, userId, RecommendationFilters.None, CancellationToken.None);
            Assert.True(evaluated.ItemIds.SequenceEqual(served.ItemIds),
                $"{name}, user {userId}: evaluated [{string.Join(',', evaluated.ItemIds.Take(10))}] served [{string.Join(',', served.ItemIds.Take(10))}]");
            Assert.Equal(evaluated.Algorithm, served.Algorithm);
        }
    }

    [Fact]
    public async Task Served_answer_excludes_the_whole_history_and_fresh_events_at_once()
    {
        var data = TestDatasets.Synthetic(300, 200, 6_000, seed: 5);
        await using var dataSource = await EngineDatabase.CreateAsync();
        await EngineDatabase.LoadAsync(dataSource, data);
        // Only the 5 newest events are read for weighting: exclusion must not depend on them.
        await using var services = Services(dataSource, new(s_settings) { ["Recommendations:History:RecentEvents"] = "5" });
        foreach (var job in services.GetServices<IModelJob>())
        {
            await job.RunAsync(CancellationToken.None);
        }
        await services.GetRequiredService<IGlobalModel>().ReloadAsync(CancellationToken.None);
        var recommender = services.GetRequiredService<IRecommender>();
        var heavy = data.Interactions.GroupBy(e => e.UserId).OrderByDescending(g => g.Select(e => e.ItemId).Distinct().Count()).First();
        var owned = heavy.Select(e => e.ItemId).ToHashSet();
        Assert.True(owned.Count > 20);

        var list = await recommender.ForUserAsync(services.GetRequiredService<IGlobalModel>().Current, heavy.Key, RecommendationFilters.None, CancellationToken.None);
        Assert.NotEmpty(list.ItemIds);
        Assert.Empty(list.ItemIds.Intersect(owned));

        // An event recorded now (after the build) on the top item removes it from the very next answer.
        var top = list.ItemIds[0];
        await EngineDatabase.ExecuteAsync(dataSource,
            $"INSERT INTO interactions (user_id, item_id, type, occurred_at) VALUES ({heavy.Key}, {top}, 1, now())");
        var next = await recommender.ForUserAsync(services.GetRequiredService<IGlobalModel>().Current, heavy.Key, RecommendationFilters.None, CancellationToken.None);
        Assert.DoesNotContain(top, next.ItemIds);
    }
}
