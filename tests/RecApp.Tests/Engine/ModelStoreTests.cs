using RecApp.Engine.Domain;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using RecApp.Engine;
using RecApp.Engine.Model;
using RecApp.Engine.Training;
using RecApp.Data;
using RecApp.Data.Models;
using RecApp.Refresher.Jobs;

namespace RecApp.Tests.Engine;

/// <summary>The versioned store on real PostgreSQL: round trip, atomic switch, crash mid-job, cleanup.</summary>
public sealed class ModelStoreTests
{
    private static readonly DateTime s_now = new(2026, 11, 1, 0, 0, 0, DateTimeKind.Utc);

    private static PopularityModel Marked(float marker, int lists = 50) => new(Enumerable.Range(1, lists).ToDictionary(
        g => new Demographics(GeoId: g), _ => new ScoredIds([1, 2, 3], [marker, marker, marker])));

    [Fact]
    public async Task Every_part_round_trips_through_binary_copy()
    {
        await using var dataSource = await EngineDatabase.CreateAsync();
        var store = new ModelStore(dataSource, NullLogger<ModelStore>.Instance);
        var data = TestDatasets.Synthetic(200, 100, 3000, end: s_now);
        // No tuning: it may leave the embedding source out on data this small, and every part is to be stored here.
        var model = GlobalModelBuilder.Build(data, new RecommendationOptions { Tuning = { Budget = TimeSpan.Zero } }, s_now);

        var (versions, rows) = await store.PublishAsync(ModelParts.WritesOf(model), CancellationToken.None);
        Assert.Equal(ModelParts.Names.Order(), versions.Keys.Order());
        Assert.Equal(model.Popularity.Lists.Count + model.Trending.ByCategory.Count + 1
            + model.ItemNeighbors.Collaborative.Count + model.ItemNeighbors.Content.Count
            + model.UserNeighbors.Count + model.Profiles.Users.Count + model.Embeddings.Count, rows);
        Assert.True(model.Embeddings.Count > 0);

        var read = await store.ReadAsync(ModelParts.Names, CancellationToken.None);
        Assert.Equal(versions, read.Versions);
        AssertSame(model.Popularity.Lists, read.Get(ModelParts.Popularity)!.Lists);
        AssertSame(model.ItemNeighbors.Collaborative, read.Get(ModelParts.ItemNeighbors)!.Collaborative);
        AssertSame(model.ItemNeighbors.Content, read.Get(ModelParts.ItemNeighbors)!.Content);
        Assert.Equal(model.Trending.Overall, read.Get(ModelParts.Trending)!.Overall, ScoredIdsComparer.Instance);
        var userNeighbors = read.Get(ModelParts.UserNeighbors)!;
        Assert.Equal(model.UserNeighbors.Count, userNeighbors.Count);
        Assert.True(userNeighbors.Count > 0);
        foreach (var user in model.UserNeighbors.UserIds)
        {
            Assert.Equal(model.UserNeighbors.Items(user), userNeighbors.Items(user), ScoredIdsComparer.Instance);
            Assert.Empty(userNeighbors.Neighbors(user).Ids); // serving never reads them
        }
        // The table keeps the neighbors themselves, for inspection.
        await using (var neighbors = dataSource.CreateCommand(
            $"SELECT count(*) FROM user_neighbors WHERE version = {versions[ModelParts.UserNeighbors.Name]} AND cardinality(neighbor_ids) > 0"))
        {
            Assert.Equal(model.UserNeighbors.UserIds.Count(u => model.UserNeighbors.Neighbors(u).Ids.Length > 0), (long)(await neighbors.ExecuteScalarAsync())!);
        }
        foreach (var (user, profile) in model.Profiles.Users)
        {
            var stored = read.Get(ModelParts.Profiles)!.Users[user];
            Assert.Equal(profile.InteractionCount, stored.InteractionCount);
            Assert.Equal(profile.AvgPrice, stored.AvgPrice);
            Assert.Equal(profile.Categories.OrderBy(p => p.Key), stored.Categories.OrderBy(p => p.Key));
            Assert.Equal(profile.Tags.OrderBy(p => p.Key), stored.Tags.OrderBy(p => p.Key));
            Assert.IsType<PackedNameWeights>(stored.Categories);
        }
        // A name read back is one string for the whole model, whichever users' profiles hold it.
        var profiles = read.Get(ModelParts.Profiles)!.Users.Values;
        var names = profiles.SelectMany(p => p.Categories.Keys.Concat(p.Tags.Keys)).ToList();
        Assert.True(names.Count > names.Distinct().Count());
        Assert.Equal(names.Distinct().Count(), names.Distinct(ReferenceEqualityComparer.Instance).Count());
        Assert.Equal(model.Tuning, read.Get(ModelParts.Tuning));

        // The embeddings come back bit for bit: the snapshot built in memory and the one loaded score alike.
        var embeddings = read.Get(ModelParts.ItemEmbeddings)!;
        Assert.Equal(model.Embeddings.ItemIds, embeddings.ItemIds);
        Assert.Equal(model.Embeddings.Vectors!.Settings, embeddings.Vectors!.Settings);
        Assert.True(model.Embeddings.Vectors.Values.SequenceEqual(embeddings.Vectors.Values));
        Assert.True(model.Embeddings.Vectors.Gramian.SequenceEqual(embeddings.Vectors.Gramian));
        var history = new Dictionary<long, float> { [model.Embeddings.ItemIds[0]] = 1f, [model.Embeddings.ItemIds[3]] = 0.5f };
        Assert.Equal(model.Embeddings.Recommend(history, 20, _ => true), embeddings.Recommend(history, 20, _ => true));

        // A snapshot merged from what was read equals the in-memory one, part by part (the registry drives both).
        var loaded = read.ApplyTo(ModelSnapshot.Empty);
        var built = ModelSnapshot.FromModel([], model);
        Assert.Equal(built.Tuning, loaded.Tuning);
        Assert.Equal(built.Popularity.Lists.Count, loaded.Popularity.Lists.Count);
        Assert.Equal(built.Embeddings.Count, loaded.Embeddings.Count);
    }

    [Fact]
    public async Task Readers_see_the_old_version_or_the_new_one_never_a_mix()
    {
        await using var dataSource = await EngineDatabase.CreateAsync();
        var store = new ModelStore(dataSource, NullLogger<ModelStore>.Instance);
        await store.PublishAsync([ModelParts.Popularity.Write(Marked(1f))], CancellationToken.None);

        // The second publish stops after writing its rows, inside its transaction, until the test lets it go.
        var written = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        store.AfterPartWritten = async (_, _) =>
        {
            written.SetResult();
            await release.Task;
        };
        var publishing = store.PublishAsync([ModelParts.Popularity.Write(Marked(2f))], CancellationToken.None);
        await written.Task;

        var reader = new ModelStore(dataSource, NullLogger<ModelStore>.Instance);
        var during = await reader.ReadAsync([ModelParts.Popularity.Name], CancellationToken.None);
        Assert.Equal(50, during.Get(ModelParts.Popularity)!.Lists.Count);
        Assert.All(during.Get(ModelParts.Popularity)!.Lists.Values, l => Assert.Equal(1f, l.Scores[0]));
        Assert.Equal("building", await StatusAsync(dataSource, during.Versions[ModelParts.Popularity.Name] + 1));

        // A reader hammering the store while the switch commits only ever sees complete versions.
        using var stop = new CancellationTokenSource();
        var seen = new HashSet<float>();
        var hammer = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var model = await reader.ReadAsync([ModelParts.Popularity.Name], CancellationToken.None);
                var markers = model.Get(ModelParts.Popularity)!.Lists.Values.Select(l => l.Scores[0]).Distinct().ToArray();
                Assert.Single(markers);
                Assert.Equal(50, model.Get(ModelParts.Popularity)!.Lists.Count);
                lock (seen)
                {
                    seen.Add(markers[0]);
                }
            }
        });
        release.SetResult();
        await publishing;
        await RecApp.Tests.Infrastructure.LocalProcess.WaitUntilAsync(
            () => Task.FromResult(seen.Contains(2f)), TimeSpan.FromSeconds(10), "the reader to see version 2");
        stop.Cancel();
        await hammer;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_job_failing_mid_write_leaves_the_previous_version_serving(bool cancel)
    {
        await using var dataSource = await EngineDatabase.CreateAsync();
        var store = new ModelStore(dataSource, NullLogger<ModelStore>.Instance);
        var (first, _) = await store.PublishAsync(
            [ModelParts.Popularity.Write(Marked(1f)), ModelParts.Trending.Write(new TrendingModel(new ScoredIds([1], [1f]), new Dictionary<string, ScoredIds>()))],
            CancellationToken.None);

        using var cancellation = new CancellationTokenSource();
        store.AfterPartWritten = (part, token) =>
        {
            // Popularity is written; trending is not yet: fail exactly between the two writes.
            if (cancel)
            {
                cancellation.Cancel();
                token.ThrowIfCancellationRequested();
            }
            throw new InvalidOperationException("crash between writes");
        };
        var failing = store.PublishAsync(
            [ModelParts.Popularity.Write(Marked(2f)), ModelParts.Trending.Write(new TrendingModel(new ScoredIds([2], [2f]), new Dictionary<string, ScoredIds>()))],
            cancellation.Token);
        if (cancel)
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => failing);
        }
        else
        {
            await Assert.ThrowsAsync<InvalidOperationException>(() => failing);
        }

        var current = await store.ReadAsync(ModelParts.Names, CancellationToken.None);
        Assert.Equal(first, current.Versions);
        Assert.All(current.Get(ModelParts.Popularity)!.Lists.Values, l => Assert.Equal(1f, l.Scores[0]));
        Assert.Equal(0, await EngineDatabase.ScalarAsync(dataSource, $"SELECT count(*) FROM popular_items WHERE version > {first[ModelParts.Popularity.Name]}"));
        Assert.Equal(2, await EngineDatabase.ScalarAsync(dataSource, "SELECT count(*) FROM model_versions WHERE status = 'failed'"));
    }

    [Fact]
    public async Task Cleanup_drops_retired_versions_but_never_the_current_one()
    {
        await using var dataSource = await EngineDatabase.CreateAsync();
        var store = new ModelStore(dataSource, NullLogger<ModelStore>.Instance);
        var published = new List<long>();
        for (var i = 1; i <= 4; i++)
        {
            var (versions, _) = await store.PublishAsync([ModelParts.Popularity.Write(Marked(i, lists: 3))], CancellationToken.None);
            published.Add(versions[ModelParts.Popularity.Name]);
        }
        await EngineDatabase.ExecuteAsync(dataSource, """
            INSERT INTO job_runs (job, host, started_at, status) VALUES ('popular', 'h', now() - interval '30 days', 'succeeded'), ('popular', 'h', now(), 'succeeded');
            INSERT INTO refresh_requests (job, requested_at, handled_at) VALUES ('popular', now() - interval '30 days', now() - interval '30 days'), ('popular', now(), NULL);
            """);

        var deleted = await new CleanupJob(store, Microsoft.Extensions.Options.Options.Create(new RecommendationOptions { Store = { KeepRetiredVersions = 1 } }))
            .RunAsync(CancellationToken.None);

        Assert.Equal(2 * 3 + 1 + 1, deleted.Rows); // two oldest versions' rows, one job run, one handled request
        Assert.Equal(6, await EngineDatabase.ScalarAsync(dataSource, $"SELECT count(*) FROM popular_items WHERE version >= {published[2]}"));
        Assert.Equal(0, await EngineDatabase.ScalarAsync(dataSource, $"SELECT count(*) FROM popular_items WHERE version < {published[2]}"));
        Assert.Equal(published[3], (await store.ReadCurrentVersionsAsync(CancellationToken.None))[ModelParts.Popularity.Name]);
        Assert.Equal(1, await EngineDatabase.ScalarAsync(dataSource, "SELECT count(*) FROM job_runs"));
        Assert.Equal(1, await EngineDatabase.ScalarAsync(dataSource, "SELECT count(*) FROM refresh_requests"));
    }

    private static async Task<string> StatusAsync(NpgsqlDataSource dataSource, long version)
    {
        await using var command = dataSource.CreateCommand($"SELECT status FROM model_versions WHERE version = {version}");
        return (string)(await command.ExecuteScalarAsync())!;
    }

    private static void AssertSame<TKey>(IReadOnlyDictionary<TKey, ScoredIds> expected, IReadOnlyDictionary<TKey, ScoredIds> actual) where TKey : notnull
    {
        Assert.Equal(expected.Count, actual.Count);
        foreach (var (key, list) in expected)
        {
            Assert.Equal(list, actual[key], ScoredIdsComparer.Instance);
        }
    }

    private sealed class ScoredIdsComparer : IEqualityComparer<ScoredIds>
    {
        public static readonly ScoredIdsComparer Instance = new();

        public bool Equals(ScoredIds? x, ScoredIds? y) =>
            x is not null && y is not null && x.Ids.SequenceEqual(y.Ids) && x.Scores.SequenceEqual(y.Scores);

        public int GetHashCode(ScoredIds obj) => obj.Ids.Length;
    }
}
