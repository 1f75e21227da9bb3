using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using RecApp.Engine.Domain;
using RecApp.Data;
using RecApp.Data.Source;
using RecApp.Engine;
using RecApp.Engine.Model;
using RecApp.Engine.Training;
using RecApp.Engine.Embeddings;
using RecApp.Data.Models;
using RecApp.Api.Model;
using RecApp.Refresher.Jobs;
using RecApp.Api.Recommendations;
using RecApp.Tests.Infrastructure;
using RecApp.Data.Jobs;

namespace RecApp.Tests.Engine;

/// <summary>Jobs, the API's global model and the recommender against real PostgreSQL.</summary>
public sealed class GlobalModelTests
{
    // Whole seconds: PostgreSQL keeps microseconds, .NET ticks are finer.
    private static readonly DateTime s_now = new(DateTime.UtcNow.Ticks / TimeSpan.TicksPerSecond * TimeSpan.TicksPerSecond, DateTimeKind.Utc);

    private static ServiceProvider Services(NpgsqlDataSource dataSource, Dictionary<string, string?>? settings = null, TimeProvider? clock = null)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings ?? []).Build();
        var services = new ServiceCollection()
            .AddLogging()
            .AddSingleton<IConfiguration>(configuration)
            .AddSingleton(dataSource);
        if (clock is not null)
        {
            services.AddSingleton(clock);
        }
        services.AddModelJobs();
        services.AddRecommender();
        return services.BuildServiceProvider();
    }

    private static async Task RunAllJobsAsync(IServiceProvider services)
    {
        foreach (var job in services.GetServices<IModelJob>())
        {
            await job.RunAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task Jobs_read_the_database_and_publish_every_part()
    {
        await using var dataSource = await EngineDatabase.CreateAsync();
        await EngineDatabase.LoadAsync(dataSource, TestDatasets.Synthetic(300, 200, 5000, end: s_now));
        await using var services = Services(dataSource);

        var jobs = services.GetServices<IModelJob>().ToDictionary(j => j.Name);
        Assert.Equal(JobNames.Every.Order(), jobs.Keys.Order());
        var popular = await jobs["popular"].RunAsync(CancellationToken.None);
        var profiles = await jobs["profiles"].RunAsync(CancellationToken.None);
        var similarities = await jobs["similarities"].RunAsync(CancellationToken.None);
        var cleanup = await jobs["cleanup"].RunAsync(CancellationToken.None);

        Assert.True(popular.Rows > 0 && profiles.Rows == 200 && similarities.Rows > 300);
        Assert.Null(cleanup.ModelVersion);
        var current = await services.GetRequiredService<ModelStore>().ReadCurrentVersionsAsync(CancellationToken.None);
        Assert.Equal(ModelParts.Names.Order(), current.Keys.Order());
        Assert.Equal(similarities.ModelVersion, current.Values.Max());
    }

    [Fact]
    public async Task Dataset_reader_returns_what_was_loaded()
    {
        await using var dataSource = await EngineDatabase.CreateAsync();
        var data = TestDatasets.Synthetic(50, 30, 400, end: s_now);
        var rated = data.Interactions.Select((e, i) => i % 7 == 0 ? e with { Type = InteractionType.Rating, Value = 3.5f } : e).ToArray();
        await EngineDatabase.LoadAsync(dataSource, new Dataset(data.Items, data.Users, rated));

        var read = await DatasetReader.ReadAllAsync(dataSource, CancellationToken.None);
        Assert.Equal(data.Items.Select(i => (i.Id, i.Category, i.Price, i.GeoId, string.Join(',', i.Tags))),
            read.Items.Select(i => (i.Id, i.Category, i.Price, i.GeoId, string.Join(',', i.Tags))));
        Assert.Equal(data.Users, read.Users);
        Assert.Equal(rated.OrderBy(e => (e.UserId, e.ItemId, e.OccurredAt)).Select(e => (e.UserId, e.ItemId, e.Type, e.Value, e.OccurredAt)),
            read.Interactions.OrderBy(e => (e.UserId, e.ItemId, e.OccurredAt)).Select(e => (e.UserId, e.ItemId, e.Type, e.Value, e.OccurredAt)));
    }

    [Fact]
    public async Task A_dataset_is_reused_within_the_window_counted_from_the_last_job_that_released_it()
    {
        await using var dataSource = await EngineDatabase.CreateAsync();
        await EngineDatabase.LoadAsync(dataSource, TestDatasets.Synthetic(50, 30, 400, end: s_now));
        var clock = new FakeTimeProvider(s_now);
        var window = TimeSpan.FromMinutes(2);
        var options = Options.Create(new RecommendationOptions { Store = { DatasetReuseWindow = window } });
        using var reader = new DatasetReader(dataSource, options, clock, NullLogger<DatasetReader>.Instance);

        var lease = await reader.ReadAsync(CancellationToken.None);
        var first = lease.Dataset;
        clock.Advance(window * 3); // a build longer than the window (a large data set), still holding the dataset
        lease.Dispose();
        clock.Advance(window / 2);
        lease = await reader.ReadAsync(CancellationToken.None);
        Assert.Same(first, lease.Dataset);

        lease.Dispose();
        clock.Advance(window);
        using var again = await reader.ReadAsync(CancellationToken.None);
        var fresh = again.Dataset;
        Assert.NotSame(first, fresh);
        Assert.Equal(first.Interactions.Length, fresh.Interactions.Length);
    }

    [Fact]
    public async Task The_similarities_job_keeps_its_search_choices_until_KeepFor_passes_or_the_data_grows()
    {
        await using var dataSource = await EngineDatabase.CreateAsync();
        var data = TestDatasets.Synthetic(300, 200, 5000, end: s_now);
        await EngineDatabase.LoadAsync(dataSource, data);
        var clock = new FakeTimeProvider(s_now);
        await using var provider = Services(dataSource, new()
        {
            ["Recommendations:Store:DatasetReuseWindow"] = "00:00:00", // every run reads the data it is given
            ["Recommendations:Tuning:KeepFor"] = "1.00:00:00",
            ["Recommendations:Tuning:RetuneAfterGrowth"] = "0.1",
        }, clock);
        var job = provider.GetServices<IModelJob>().Single(j => j.Name == JobNames.Similarities);
        var store = provider.GetRequiredService<ModelStore>();
        async Task<ModelTuning> BuildAsync()
        {
            await job.RunAsync(CancellationToken.None);
            return (await store.ReadAsync([ModelParts.Tuning.Name], CancellationToken.None)).Get(ModelParts.Tuning)!;
        }
        // Interactions newer than the rest (the data clock moves to their time), on items and users of the data set.
        Task AddAsync(int count, DateTime at) => EngineDatabase.ExecuteAsync(dataSource,
            $"INSERT INTO interactions (user_id, item_id, type, value, occurred_at) SELECT 1 + n % 200, 1 + n % 300, {(short)InteractionType.Purchase}, NULL, " +
            $"'{at:O}'::timestamptz FROM generate_series(1, {count}) n");

        var searched = await BuildAsync();
        Assert.Equal(GlobalModelBuilder.DataClock(data), searched.DataClock);
        Assert.Equal(searched.DataClock, searched.TunedDataClock);
        Assert.True(searched.SettingsTried > 1, "the first build searched");

        await AddAsync(10, s_now.AddHours(1));
        clock.Advance(TimeSpan.FromHours(23));
        var kept = await BuildAsync();
        Assert.Equal(s_now.AddHours(1), kept.DataClock);
        Assert.False(searched.EmbeddingsWarmStarted);
        // The search's record with this build's clock, and an embedding fit started from the last build's vectors.
        Assert.Equal(searched with { DataClock = kept.DataClock, EmbeddingsWarmStarted = true }, kept);

        clock.Advance(TimeSpan.FromHours(1)); // KeepFor has passed since the search
        var afterKeepFor = await BuildAsync();
        Assert.Equal(s_now.AddHours(1), afterKeepFor.TunedDataClock);
        Assert.False(afterKeepFor.EmbeddingsWarmStarted); // a search starts cold

        await AddAsync(600, s_now.AddHours(2)); // more than 10% of the 5,010 interactions the last search saw
        var afterGrowth = await BuildAsync();
        Assert.Equal(s_now.AddHours(2), afterGrowth.TunedDataClock);
    }

    [Fact]
    public async Task A_job_publishes_while_the_next_one_builds_and_publishes_commit_in_build_order()
    {
        await using var dataSource = await EngineDatabase.CreateAsync();
        await EngineDatabase.LoadAsync(dataSource, TestDatasets.Synthetic(50, 30, 400, end: s_now));
        await using var services = Services(dataSource);
        var store = services.GetRequiredService<ModelStore>();
        var secondBuilding = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var first = new ProbeJob("first", services, () => { });
        var second = new ProbeJob("second", services, () => secondBuilding.TrySetResult());
        var writes = 0;
        long readyWhenSecondWrote = -1;
        store.AfterPartWritten = async (_, token) =>
        {
            if (Interlocked.Increment(ref writes) == 1)
            {
                // The first job's publish stays open until the second is building: that needs the first job's build
                // turn to have ended with its build, not with its publish.
                await secondBuilding.Task.WaitAsync(TimeSpan.FromSeconds(30), token);
            }
            else
            {
                readyWhenSecondWrote = await EngineDatabase.ScalarAsync(dataSource,
                    $"SELECT count(*) FROM model_versions WHERE part = '{ModelParts.Tuning.Name}' AND status = 'ready'");
            }
        };

        var runs = new[] { first.RunAsync(CancellationToken.None), second.RunAsync(CancellationToken.None) };
        var results = await Task.WhenAll(runs).WaitAsync(TimeSpan.FromSeconds(60));

        // The second job's publish began after the first one's commit: its version is the higher and the newer.
        Assert.Equal(1, readyWhenSecondWrote);
        Assert.True(results[1].ModelVersion > results[0].ModelVersion);
    }

    /// <summary>A build job that publishes a tuning record and calls <paramref name="building"/> from its build.</summary>
    private sealed class ProbeJob(string name, IServiceProvider services, Action building) : BuildJob(
        services.GetRequiredService<DatasetReader>(), services.GetRequiredService<ModelStore>(), services.GetRequiredService<BuildGate>(),
        services.GetRequiredService<IOptions<RecommendationOptions>>(), TimeProvider.System, NullLogger<ProbeJob>.Instance)
    {
        public override string Name => name;

        protected override IReadOnlyList<PartWrite> Build(Dataset dataset, DateTime asOf)
        {
            building();
            return [ModelParts.Tuning.Write(new ModelTuning { DataClock = asOf })];
        }
    }

    [Fact]
    public async Task An_empty_database_gives_an_empty_model_that_still_answers()
    {
        await using var dataSource = await EngineDatabase.CreateAsync();
        await using var services = Services(dataSource);
        var model = services.GetRequiredService<IGlobalModel>();
        Assert.False(await model.ReloadAsync(CancellationToken.None));
        var recommender = services.GetRequiredService<IRecommender>();
        var list = await recommender.ForUserAsync(services.GetRequiredService<IGlobalModel>().Current, 1, RecommendationFilters.None, CancellationToken.None);
        Assert.Empty(list.ItemIds);
        Assert.Equal(RecommendationAlgorithm.Popular, list.Algorithm);
        Assert.Null(await recommender.SimilarAsync(services.GetRequiredService<IGlobalModel>().Current, 1, CancellationToken.None));
    }

    [Fact]
    public async Task The_hosted_service_loads_at_start_and_switches_on_a_new_version()
    {
        await using var dataSource = await EngineDatabase.CreateAsync();
        await EngineDatabase.LoadAsync(dataSource, TestDatasets.Synthetic(300, 200, 5000, end: s_now));
        await using var services = Services(dataSource, new() { ["Recommendations:Store:SnapshotPollInterval"] = "00:00:00.2" });
        await RunAllJobsAsync(services);
        var store = services.GetRequiredService<ModelStore>();
        var published = (await store.ReadCurrentVersionsAsync(CancellationToken.None)).Values.Max();

        var hosted = services.GetServices<IHostedService>().OfType<GlobalModelRefreshService>().Single();
        await hosted.StartAsync(CancellationToken.None);
        try
        {
            var model = services.GetRequiredService<IGlobalModel>();
            Assert.Equal(published, model.Current.Version); // loaded before start-up completes
            Assert.Equal(300, model.Current.Catalog.Count);
            var before = model.Current;

            var popular = services.GetServices<IModelJob>().Single(j => j.Name == "popular");
            var next = await popular.RunAsync(CancellationToken.None);
            await LocalProcess.WaitUntilAsync(() => Task.FromResult(model.Current.Version == next.ModelVersion),
                TimeSpan.FromSeconds(5), "the snapshot to switch to the new version");
            Assert.NotSame(before.Popularity, model.Current.Popularity);
            Assert.Same(before.ItemNeighbors, model.Current.ItemNeighbors); // unchanged parts are not re-read

            // Catalog edits in the database reach the snapshot by polling too.
            var active = model.Current.Catalog.Items.Where(i => i.Active).Min(i => i.Id);
            await EngineDatabase.ExecuteAsync(dataSource, $"UPDATE items SET active = false, updated_at = now() + interval '1 second' WHERE id = {active}");
            await LocalProcess.WaitUntilAsync(() => Task.FromResult(!model.Current.Catalog.IsActive(active)),
                TimeSpan.FromSeconds(5), "the polled deactivation");
        }
        finally
        {
            await hosted.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task Applied_item_changes_take_effect_immediately()
    {
        await using var dataSource = await EngineDatabase.CreateAsync();
        await EngineDatabase.LoadAsync(dataSource, TestDatasets.Synthetic(300, 200, 5000, end: s_now));
        await using var services = Services(dataSource);
        await RunAllJobsAsync(services);
        var model = services.GetRequiredService<IGlobalModel>();
        await model.ReloadAsync(CancellationToken.None);
        var recommender = services.GetRequiredService<IRecommender>();

        var popular = await recommender.PopularAsync(services.GetRequiredService<IGlobalModel>().Current, new Demographics(), RecommendationFilters.None, CancellationToken.None);
        var top = model.Current.Catalog.Find(popular.ItemIds[0])!;
        model.ApplyItemChange(top with { Active = false });
        var after = await recommender.PopularAsync(services.GetRequiredService<IGlobalModel>().Current, new Demographics(), RecommendationFilters.None, CancellationToken.None);
        Assert.DoesNotContain(top.Id, after.ItemIds);

        // By id: re-read from the database (here: reactivated and moved to a new category).
        await EngineDatabase.ExecuteAsync(dataSource, $"UPDATE items SET category = 'brand-new' WHERE id = {top.Id}");
        await model.ApplyItemChangeAsync(top.Id, CancellationToken.None);
        Assert.Equal("brand-new", model.Current.Catalog.Find(top.Id)!.Category);
        Assert.True(model.Current.Catalog.IsActive(top.Id));
    }

    [Fact]
    public async Task A_live_change_made_while_a_reload_reads_the_catalog_survives_the_swap()
    {
        await using var dataSource = await EngineDatabase.CreateAsync();
        await EngineDatabase.LoadAsync(dataSource, TestDatasets.Synthetic(100, 50, 1000, end: s_now));
        await using var services = Services(dataSource);
        await RunAllJobsAsync(services);
        var holder = services.GetRequiredService<GlobalModelHolder>();
        await holder.ReloadAsync(CancellationToken.None);
        var item = holder.Current.Catalog.Items.First(i => i.Active);

        // A new model version makes the next reload re-read the whole catalog; the deactivation lands between that
        // read (which still saw the item active) and the swap.
        await RunAllJobsAsync(services);
        holder.BeforeSwap = () =>
        {
            holder.ApplyItemChange(item with { Active = false });
            return Task.CompletedTask;
        };
        Assert.True(await holder.ReloadAsync(CancellationToken.None));
        Assert.False(holder.Current.Catalog.IsActive(item.Id));

        // Once applied, a change is not re-applied by later reloads: the database row wins again.
        holder.BeforeSwap = null;
        await RunAllJobsAsync(services);
        Assert.True(await holder.ReloadAsync(CancellationToken.None));
        Assert.True(holder.Current.Catalog.IsActive(item.Id));
    }

    [Fact]
    public async Task A_new_interaction_changes_the_next_list_before_any_refresh()
    {
        await using var dataSource = await EngineDatabase.CreateAsync();
        await EngineDatabase.LoadAsync(dataSource, TestDatasets.Synthetic(300, 200, 5000, end: s_now));
        await using var services = Services(dataSource);
        await RunAllJobsAsync(services);
        await services.GetRequiredService<IGlobalModel>().ReloadAsync(CancellationToken.None);
        var recommender = services.GetRequiredService<IRecommender>();
        const long newUser = 10_000;

        var cold = await recommender.ForUserAsync(services.GetRequiredService<IGlobalModel>().Current, newUser, RecommendationFilters.None, CancellationToken.None);
        Assert.Equal(RecommendationAlgorithm.Popular, cold.Algorithm);

        var picked = new List<long>();
        foreach (var (item, expected) in new[] { (cold.ItemIds[0], RecommendationAlgorithm.Content), (cold.ItemIds[1], RecommendationAlgorithm.Content), (cold.ItemIds[2], RecommendationAlgorithm.Collaborative) })
        {
            await EngineDatabase.ExecuteAsync(dataSource,
                $"INSERT INTO interactions (user_id, item_id, type, occurred_at) VALUES ({newUser}, {item}, 5, now())");
            picked.Add(item);
            var list = await recommender.ForUserAsync(services.GetRequiredService<IGlobalModel>().Current, newUser, RecommendationFilters.None, CancellationToken.None);
            Assert.Equal(expected, list.Algorithm);
            Assert.Empty(list.ItemIds.Intersect(picked));
        }
    }

    [Fact]
    public async Task Demographics_come_from_the_users_table()
    {
        await using var dataSource = await EngineDatabase.CreateAsync();
        await EngineDatabase.LoadAsync(dataSource, TestDatasets.Synthetic(300, 400, 8000, end: s_now));
        await using var services = Services(dataSource, new() { ["Recommendations:Popularity:MinSegmentUsers"] = "5", ["Recommendations:Scoring:MaxCategoryShare"] = "1", ["Recommendations:Scoring:FreshnessBoost"] = "0", ["Recommendations:Popularity:TrendingWeight"] = "0" });
        await RunAllJobsAsync(services);
        var model = services.GetRequiredService<IGlobalModel>();
        await model.ReloadAsync(CancellationToken.None);
        // The most specific stored segment: a new user in it must get exactly its list.
        var key = model.Current.Popularity.Lists.Keys.First(k => k is { GeoId: not null, Gender: not null, AgeGroup: not null, Category: null });
        await EngineDatabase.ExecuteAsync(dataSource,
            $"INSERT INTO users (id, gender, age_group, geo_id) VALUES (50000, '{key.Gender}', '{key.AgeGroup}', {key.GeoId})");

        var list = await services.GetRequiredService<IRecommender>().ForUserAsync(services.GetRequiredService<IGlobalModel>().Current, 50_000, RecommendationFilters.None, CancellationToken.None);
        Assert.Equal(model.Current.Popularity.Lists[key].Ids.Take(10), list.ItemIds.Take(10));
    }
}
