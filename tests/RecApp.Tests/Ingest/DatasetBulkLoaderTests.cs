using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using RecApp.Engine.Domain;
using RecApp.Data;
using RecApp.Data.Migrations;
using RecApp.Engine.Datasets;
using RecApp.Tests.Infrastructure;

namespace RecApp.Tests.Ingest;

public sealed class DatasetBulkLoaderTests
{
    private static async Task<NpgsqlDataSource> CreateDatabaseAsync()
    {
        var postgres = await TestServers.Postgres;
        var dataSource = NpgsqlDataSource.Create(await postgres.CreateDatabaseAsync("load"));
        await new DatabaseMigrator(dataSource, NullLogger<DatabaseMigrator>.Instance).MigrateAsync();
        return dataSource;
    }

    private static DatasetBulkLoader Loader(NpgsqlDataSource dataSource) => new(dataSource, NullLogger<DatasetBulkLoader>.Instance);

    /// <summary>Loads the tiny synthetic dataset of <paramref name="seed"/>; returns the loader and what it loaded.</summary>
    private static async Task<(DatasetBulkLoader Loader, Dataset Loaded)> LoadTinyAsync(NpgsqlDataSource dataSource, int seed)
    {
        var loader = Loader(dataSource);
        var dataset = SyntheticDatasetGenerator.Generate(new SyntheticDatasetOptions(SyntheticDatasetSize.Tiny, seed));
        await loader.LoadAsync(dataset);
        return (loader, dataset);
    }

    private static readonly DateTime s_at = new(2025, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    /// <summary>One item and one user (id 10,001) absent from the tiny datasets, with the given interactions.</summary>
    private static Dataset NewItemAndUser(params Interaction[] interactions) => new(
        [new CatalogItem(10_001, "New", "books", ["a"], 1m, null, true, s_at)],
        [new UserDemographics(10_001, "f", "18-24", 1)],
        interactions);

    private static async Task<List<string>> ReadAllAsync(NpgsqlDataSource dataSource, string sql)
    {
        var rows = new List<string>();
        await using var command = dataSource.CreateCommand(sql);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            var fields = new object[reader.FieldCount];
            reader.GetValues(fields);
            rows.Add(string.Join('|', fields.Select(f => f is string[] tags ? string.Join(',', tags) : f is DateTime at ? at.ToString("O") : f.ToString())));
        }
        return rows;
    }

    private static async Task<long> CountAsync(NpgsqlDataSource dataSource, string table)
    {
        await using var command = dataSource.CreateCommand($"SELECT count(*) FROM {table}");
        return (long)(await command.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task A_tiny_dataset_round_trips_exactly()
    {
        await using var dataSource = await CreateDatabaseAsync();
        var dataset = SyntheticDatasetGenerator.Generate(new SyntheticDatasetOptions(SyntheticDatasetSize.Tiny, Seed: 11));
        var reports = new List<BulkLoadProgress>();
        var loader = Loader(dataSource);
        Assert.True(await loader.IsEmptyAsync());

        var result = await loader.LoadAsync(dataset, new SynchronousProgress(reports.Add));

        Assert.Equal((dataset.Items.Count, dataset.Users.Count, dataset.Interactions.Length), ((int)result.Items, (int)result.Users, (int)result.Interactions));
        Assert.False(await loader.IsEmptyAsync());
        Assert.Contains(new BulkLoadProgress("interactions", dataset.Interactions.Length, dataset.Interactions.Length), reports);

        Assert.Equal(
            dataset.Items.Select(i => $"{i.Id}|{i.Title}|{i.Category}|{string.Join(',', i.Tags)}|{i.Price}|{i.GeoId}|{i.Active}|{i.CreatedAt:O}"),
            await ReadAllAsync(dataSource, "SELECT id, title, category, tags, price, geo_id, active, created_at FROM items ORDER BY id"));
        Assert.Equal(
            dataset.Users.Select(u => $"{u.Id}|{u.Gender}|{u.AgeGroup}|{u.GeoId}"),
            await ReadAllAsync(dataSource, "SELECT id, gender, age_group, geo_id FROM users ORDER BY id"));
        Assert.Equal(
            dataset.Interactions.Select(i => $"{i.UserId}|{i.ItemId}|{(short)i.Type}|{i.Value}|{i.OccurredAt:O}").Order(StringComparer.Ordinal),
            (await ReadAllAsync(dataSource, "SELECT user_id, item_id, type, value, occurred_at FROM interactions")).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_load_that_fails_part_way_leaves_the_database_as_it_was()
    {
        await using var dataSource = await CreateDatabaseAsync();
        var (loader, first) = await LoadTinyAsync(dataSource, seed: 1);
        var before = (await CountAsync(dataSource, "items"), await CountAsync(dataSource, "users"), await CountAsync(dataSource, "interactions"));

        // New ids, so items and users copy fine; an out-of-range interaction type then breaks a CHECK constraint.
        var broken = NewItemAndUser(
            new Interaction(10_001, 10_001, InteractionType.Click, null, s_at), new Interaction(10_001, 10_001, (InteractionType)42, null, s_at));
        await Assert.ThrowsAsync<PostgresException>(() => loader.LoadAsync(broken));

        // Ids already present: the copy of items fails.
        await Assert.ThrowsAsync<PostgresException>(() => loader.LoadAsync(first));

        Assert.Equal(before, (await CountAsync(dataSource, "items"), await CountAsync(dataSource, "users"), await CountAsync(dataSource, "interactions")));
    }

    [Fact]
    public async Task An_imported_dataset_loads_with_its_bad_rows_left_out_and_reported()
    {
        using var directory = new TemporaryDirectory();
        File.WriteAllText(Path.Combine(directory.Path, "items.csv"), "id,title,category\n1,A,books\n2,B,books\n");
        File.WriteAllText(Path.Combine(directory.Path, "interactions.csv"),
            "user_id,item_id,type,occurred_at\n7,1,like,2025-01-01T00:00:00Z\n7,3,like,2025-01-01T00:00:00Z\n8,2,click,2025-01-02T00:00:00Z\n");
        var (dataset, report) = DatasetImportFormat.Import(DatasetImportFormat.Generic, directory.Path);
        await using var dataSource = await CreateDatabaseAsync();

        await Loader(dataSource).LoadAsync(dataset);

        Assert.Equal("interactions.csv:3: unknown item id 3", Assert.Single(report.Problems).ToString());
        Assert.Equal(["7|1|2", "8|2|1"], await ReadAllAsync(dataSource, "SELECT user_id, item_id, type FROM interactions ORDER BY user_id"));
        Assert.Equal(["7", "8"], await ReadAllAsync(dataSource, "SELECT id FROM users ORDER BY id"));
    }

    /// <summary>The secondary (non-constraint) indexes of <c>interactions</c>, by name and object id.</summary>
    private const string InteractionIndexesSql = """
        SELECT i.indexrelid::regclass::text, i.indexrelid::bigint FROM pg_index i
        WHERE i.indrelid = 'interactions'::regclass
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
        ORDER BY 1
        """;

    [Fact]
    public async Task A_load_into_an_empty_table_rebuilds_the_interaction_indexes()
    {
        await using var dataSource = await CreateDatabaseAsync();
        var before = await ReadAllAsync(dataSource, InteractionIndexesSql);
        var dataset = SyntheticDatasetGenerator.Generate(new SyntheticDatasetOptions(SyntheticDatasetSize.Tiny, Seed: 3));

        await using (var load = PausedLoad.Start(Loader(dataSource), dataset))
        {
            await load.InteractionsCopied;
            Assert.True(await HoldsExclusiveLockOnInteractionsAsync(dataSource));
            await load.ResumeAsync();
            Assert.Contains(load.Reports, r => r.Table == "indexes");
        }

        // Same indexes by name, but new objects: they were dropped and built again.
        var after = await ReadAllAsync(dataSource, InteractionIndexesSql);
        Assert.Equal(2, after.Count);
        Assert.Equal(before.Select(NameOf), after.Select(NameOf));
        Assert.Empty(before.Intersect(after));
        Assert.Equal(dataset.Interactions.Length, await CountAsync(dataSource, "interactions"));
    }

    [Fact]
    public async Task A_load_into_a_table_with_rows_keeps_its_indexes_and_lets_readers_through()
    {
        await using var dataSource = await CreateDatabaseAsync();
        var (loader, first) = await LoadTinyAsync(dataSource, seed: 4);
        var before = await ReadAllAsync(dataSource, InteractionIndexesSql);
        var reader = first.Interactions[0].UserId;
        var history = await CountHistoryAsync(dataSource, reader);
        var more = NewItemAndUser(
            new Interaction(10_001, 10_001, InteractionType.Click, null, s_at), new Interaction(reader, 10_001, InteractionType.Like, null, s_at));

        await using (var load = PausedLoad.Start(loader, more))
        {
            await load.InteractionsCopied;
            Assert.False(await HoldsExclusiveLockOnInteractionsAsync(dataSource));
            // An API history read while the load's transaction is open: it must finish, seeing the committed rows only.
            var read = CountHistoryAsync(dataSource, reader);
            await LocalProcess.WaitUntilAsync(() => Task.FromResult(read.IsCompleted), TimeSpan.FromSeconds(10), "a history read during the load");
            Assert.Equal(history, await read);
            await load.ResumeAsync();
            Assert.DoesNotContain(load.Reports, r => r.Table == "indexes");
        }

        Assert.Equal(before, await ReadAllAsync(dataSource, InteractionIndexesSql));
        Assert.Equal(history + 1, await CountHistoryAsync(dataSource, reader));
    }

    private static string NameOf(string indexRow) => indexRow.Split('|')[0];

    private static async Task<long> CountHistoryAsync(NpgsqlDataSource dataSource, long userId)
    {
        await using var command = dataSource.CreateCommand("SELECT count(*) FROM interactions WHERE user_id = $1");
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = userId });
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static async Task<bool> HoldsExclusiveLockOnInteractionsAsync(NpgsqlDataSource dataSource)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT EXISTS (
                SELECT 1 FROM pg_locks
                WHERE database = (SELECT oid FROM pg_database WHERE datname = current_database())
                  AND relation = 'interactions'::regclass AND mode = 'AccessExclusiveLock' AND granted)
            """);
        return (bool)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>
    /// A load that stops right after its interactions COPY, with its transaction still open, until
    /// <see cref="ResumeAsync"/>; disposing resumes it too, so a failed assertion never leaves the load hanging.
    /// </summary>
    private sealed class PausedLoad : IAsyncDisposable
    {
        private readonly TaskCompletionSource _copied = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly ManualResetEventSlim _resume = new();
        private Task _load = Task.CompletedTask;

        public List<BulkLoadProgress> Reports { get; } = [];
        public Task InteractionsCopied => _copied.Task;

        public static PausedLoad Start(DatasetBulkLoader loader, Dataset dataset)
        {
            var paused = new PausedLoad();
            paused._load = Task.Run(() => loader.LoadAsync(dataset, new SynchronousProgress(paused.Report)));
            return paused;
        }

        private void Report(BulkLoadProgress value)
        {
            Reports.Add(value);
            if (value.Table == "interactions" && value.Written == value.Total && _copied.TrySetResult())
            {
                // Blocks the loader's thread (a thread-pool thread), not the test.
                _resume.Wait(TimeSpan.FromSeconds(30));
            }
        }

        public async Task ResumeAsync()
        {
            _resume.Set();
            await _load.WaitAsync(TimeSpan.FromSeconds(30));
        }

        public async ValueTask DisposeAsync()
        {
            _resume.Set();
            await Task.WhenAny(_load, Task.Delay(TimeSpan.FromSeconds(30)));
            _resume.Dispose();
        }
    }

    private sealed class SynchronousProgress(Action<BulkLoadProgress> report) : IProgress<BulkLoadProgress>
    {
        public void Report(BulkLoadProgress value) => report(value);
    }

    private sealed class TemporaryDirectory : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("recapp-load-").FullName;
        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
