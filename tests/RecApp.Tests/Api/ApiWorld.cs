using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Configuration;
using Npgsql;
using RecApp.Engine.Model;
using RecApp.Engine.Training;
using RecApp.Engine.Embeddings;
using RecApp.Data;
using RecApp.Data.Models;
using RecApp.Api.Model;
using RecApp.Refresher.Jobs;
using RecApp.Tests.Infrastructure;
using RecApp.Data.Jobs;

namespace RecApp.Tests.Api;

/// <summary>
/// A small deterministic world for the API tests: 60 items in three categories, 40 users with demographics and
/// 8 events each, and a published model built by the engine's own jobs. Users from 1000 up have no history.
/// </summary>
public sealed class ApiWorld : IAsyncLifetime
{
    public const string AdminKey = "test-admin-key";
    public static readonly string[] Categories = ["electronics", "books", "toys"];

    private readonly DatabaseFixture _database = new();

    public string ConnectionString => _database.ConnectionString;
    public string RedisConnectionString => _database.RedisConnectionString;
    public string KeyPrefix => _database.KeyPrefix;

    public static string CategoryOf(long itemId) => Categories[itemId % 3];

    public static decimal PriceOf(long itemId) => 100 * (itemId % 10) + 50;

    public async ValueTask InitializeAsync()
    {
        await _database.InitializeAsync();
        await using var dataSource = NpgsqlDataSource.Create(ConnectionString);
        await SeedAsync(dataSource);
        await RunJobsAsync(ConnectionString);
    }

    private ApiFactory? _shared;

    /// <summary>One instance shared by the tests of a class that need no special settings.</summary>
    public ApiFactory Api => _shared ??= CreateApi();

    public async ValueTask DisposeAsync()
    {
        if (_shared is not null)
        {
            await _shared.DisposeAsync();
        }
        await _database.DisposeAsync();
    }

    /// <summary>An API instance on this world; every instance of one world shares PostgreSQL, Redis and key prefix.</summary>
    public ApiFactory CreateApi(IReadOnlyDictionary<string, string?>? settings = null, string? redis = null, string? postgres = null)
    {
        var all = new Dictionary<string, string?>
        {
            ["Caching:KeyPrefix"] = KeyPrefix,
            ["RateLimiting:Enabled"] = "false",
            ["Admin:ApiKey"] = AdminKey,
            ["Api:WarmUsers"] = "5",
            ["Logging:LogLevel:Default"] = "Warning",
            // The tests share two cores with each other: a write or a health check may wait longer than a deployment's
            // bounds for CPU, not for the database. Tests of the bounds themselves set them back (FrozenDatabaseTests).
            ["Database:WriteTimeout"] = "00:00:20",
            ["HealthChecks:Timeout"] = "00:00:10",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            all[key] = value;
        }
        return new ApiFactory(postgres ?? ConnectionString, redis ?? RedisConnectionString, all);
    }

    /// <summary>
    /// The same world in a new database of <paramref name="postgres"/> (a private server a test may stop or freeze):
    /// migrated, seeded and with a published model. Returns its connection string.
    /// </summary>
    public static async Task<string> CreateOnAsync(PostgresServer postgres, string name)
    {
        var connectionString = await postgres.CreateDatabaseAsync(name);
        await using (var dataSource = NpgsqlDataSource.Create(connectionString))
        {
            await new RecApp.Data.Migrations.DatabaseMigrator(
                dataSource, Microsoft.Extensions.Logging.Abstractions.NullLogger<RecApp.Data.Migrations.DatabaseMigrator>.Instance)
                .MigrateAsync();
            await SeedAsync(dataSource);
        }
        await RunJobsAsync(connectionString);
        return connectionString;
    }

    /// <summary>Runs the engine's build jobs (popular, profiles, similarities) against a database.</summary>
    public static Task RunJobsAsync(string connectionString) =>
        RunJobsAsync(connectionString, JobNames.Popular, JobNames.Profiles, JobNames.Similarities);

    /// <summary>Runs the named build jobs, in that order.</summary>
    public static async Task RunJobsAsync(string connectionString, params string[] jobs)
    {
        var services = new ServiceCollection()
            .AddLogging(logging => logging.SetMinimumLevel(LogLevel.Warning))
            .AddSingleton<IConfiguration>(new ConfigurationBuilder()
                .AddInMemoryCollection(new Dictionary<string, string?> { ["Recommendations:Popularity:MinSegmentUsers"] = "1" })
                .Build())
            .AddSingleton(_ => NpgsqlDataSource.Create(connectionString))
            .AddModelJobs();
        await using var provider = services.BuildServiceProvider();
        var all = provider.GetServices<IModelJob>().ToDictionary(j => j.Name);
        foreach (var job in jobs)
        {
            await all[job].RunAsync(CancellationToken.None);
        }
    }

    public static async Task SeedAsync(NpgsqlDataSource dataSource)
    {
        await using var batch = dataSource.CreateBatch();
        // Category and price come from CategoryOf and PriceOf, so the tests' expectations and the rows agree.
        var ids = Enumerable.Range(1, 60).Select(i => (long)i).ToArray();
        var items = new NpgsqlBatchCommand("""
            INSERT INTO items (id, title, category, tags, price, created_at)
            SELECT i, 'Item ' || i, c, ARRAY['t' || (i % 5)], p, now() - interval '60 days'
            FROM unnest($1::bigint[], $2::text[], $3::numeric[]) AS s(i, c, p)
            """);
        items.Parameters.Add(new NpgsqlParameter { Value = ids });
        items.Parameters.Add(new NpgsqlParameter { Value = ids.Select(CategoryOf).ToArray() });
        items.Parameters.Add(new NpgsqlParameter { Value = ids.Select(PriceOf).ToArray() });
        batch.BatchCommands.Add(items);
        batch.BatchCommands.Add(new NpgsqlBatchCommand("""
            INSERT INTO users (id, gender, age_group, geo_id)
            SELECT u, CASE WHEN u % 2 = 0 THEN 'f' ELSE 'm' END, CASE WHEN u % 3 = 0 THEN '35-44' ELSE '25-34' END, 213
            FROM generate_series(1, 40) AS u
            """));
        // Users share items in overlapping windows, so collaborative neighbors exist.
        batch.BatchCommands.Add(new NpgsqlBatchCommand("""
            INSERT INTO interactions (user_id, item_id, type, value, occurred_at)
            SELECT u, ((u * 3 + k * 2) % 60) + 1, (k % 6)::smallint, NULL, now() - make_interval(hours => u + k)
            FROM generate_series(1, 40) AS u, generate_series(0, 7) AS k
            """));
        await batch.ExecuteNonQueryAsync();
    }
}

/// <summary>JSON helpers for the API tests (the wire is snake_case).</summary>
internal static class Wire
{
    public static async Task<JsonElement> JsonAsync(this HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    public static Task<HttpResponseMessage> PostJsonAsync(this HttpClient client, string path, string json) =>
        client.PostAsync(path, new StringContent(json, System.Text.Encoding.UTF8, "application/json"));

    public static Task<HttpResponseMessage> PutJsonAsync(this HttpClient client, string path, string json) =>
        client.PutAsync(path, new StringContent(json, System.Text.Encoding.UTF8, "application/json"));

    public static long[] Items(this JsonElement answer) =>
        answer.GetProperty("items").EnumerateArray().Select(e => e.GetInt64()).ToArray();

    public static Task<HttpResponseMessage> PostAsJsonAsync<T>(this HttpClient client, string path, T value) =>
        HttpClientJsonExtensions.PostAsJsonAsync(client, path, value);
}
