using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using RecApp.Engine.Domain;
using RecApp.Data;
using RecApp.Data.Source;
using RecApp.Engine.Model;
using RecApp.Engine.Training;
using RecApp.Engine.Embeddings;
using RecApp.Data.Models;
using RecApp.Api.Model;
using RecApp.Refresher.Jobs;
using RecApp.Tests.Infrastructure;
using RecApp.Data.Jobs;

namespace RecApp.Tests.Api;

/// <summary>
/// The sample shop (<c>samples/shop/sample-shop.sql</c>: its own schema, nothing like RecApp's) in a database of its
/// own, reachable by RecApp only as <c>shop_reader</c> (SELECT grants and nothing else), mapped by
/// <c>samples/shop/mapping.json</c>; RecApp's own database beside it holds a few events and demographics posted to the API.
/// </summary>
public sealed class ShopWorld : IAsyncLifetime
{
    private readonly DatabaseFixture _recdb = new();

    public string RecDb => _recdb.ConnectionString;
    public string Redis => _recdb.RedisConnectionString;
    public string KeyPrefix => _recdb.KeyPrefix;

    /// <summary>The shop as its owner (the sample's admin), for setting it up and checking it.</summary>
    public string ShopAdmin { get; private set; } = "";

    /// <summary>The shop as RecApp sees it: the SELECT-only role.</summary>
    public string ShopReader { get; private set; } = "";

    /// <summary>The sample's mapping, as configuration keys (SourceDatabase:ItemsQuery, …).</summary>
    public IReadOnlyDictionary<string, string?> Mapping { get; private set; } = new Dictionary<string, string?>();

    public static string SampleFile(string name) => Path.Combine(AppContext.BaseDirectory, "samples", "shop", name);

    public async ValueTask InitializeAsync()
    {
        await _recdb.InitializeAsync();
        var postgres = await TestServers.Postgres;
        ShopAdmin = await postgres.CreateDatabaseAsync("shop");
        await using (var admin = NpgsqlDataSource.Create(ShopAdmin))
        {
            await using var setup = admin.CreateCommand(await File.ReadAllTextAsync(SampleFile("sample-shop.sql")));
            await setup.ExecuteNonQueryAsync();
        }
        ShopReader = new NpgsqlConnectionStringBuilder(ShopAdmin) { Username = "shop_reader", Password = "shop-reader" }.ConnectionString;
        Mapping = new ConfigurationBuilder().AddJsonFile(SampleFile("mapping.json")).Build()
            .AsEnumerable().Where(e => e.Value is not null).ToDictionary(e => e.Key, e => e.Value);

        // What RecApp's API received before: user 9 (the shop does not know their gender) said 'f'; user 8 said 'm'
        // (the shop says 'F' and wins); user 5000 is not a shop customer and used the shop's products through the API.
        await using var recdb = NpgsqlDataSource.Create(RecDb);
        await using var batch = recdb.CreateBatch();
        batch.BatchCommands.Add(new NpgsqlBatchCommand(
            "INSERT INTO users (id, gender, age_group, geo_id) VALUES (9, 'f', NULL, NULL), (8, 'm', NULL, NULL), (5000, NULL, '25-34', 213)"));
        batch.BatchCommands.Add(new NpgsqlBatchCommand("""
            INSERT INTO interactions (user_id, item_id, type, value, occurred_at)
            SELECT 5000, 1000 + 4 * k + 1, 5, NULL, timestamptz '2026-08-15 00:00Z' + make_interval(hours => k) FROM generate_series(1, 6) AS k
            """));
        await batch.ExecuteNonQueryAsync();
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    /// <summary>Every table of the shop's database and its rows, hashed: equal before and after means nothing was written.</summary>
    public async Task<string> ShopFingerprintAsync()
    {
        await using var admin = NpgsqlDataSource.Create(ShopAdmin);
        var tables = new List<string>();
        await using (var list = admin.CreateCommand("""
            SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) FROM information_schema.tables
            WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1
            """))
        await using (var reader = await list.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                tables.Add(reader.GetString(0));
            }
        }
        var parts = new List<string>();
        foreach (var table in tables)
        {
            await using var hash = admin.CreateCommand($"SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, ',' ORDER BY t::text)), '') FROM {table} AS t");
            parts.Add($"{table}={await hash.ExecuteScalarAsync()}");
        }
        return string.Join(";", parts);
    }

    public async Task<long> ShopCountAsync(string sql)
    {
        await using var admin = NpgsqlDataSource.Create(ShopAdmin);
        await using var command = admin.CreateCommand(sql);
        return Convert.ToInt64(await command.ExecuteScalarAsync());
    }

    public async Task<long> RecDbCountAsync(string sql)
    {
        await using var recdb = NpgsqlDataSource.Create(RecDb);
        await using var command = recdb.CreateCommand(sql);
        return Convert.ToInt64(await command.ExecuteScalarAsync());
    }
}

public sealed class SourceDatabaseTests(ShopWorld world) : IClassFixture<ShopWorld>
{
    private const string ShopInteractions = """
        SELECT (SELECT count(*) FROM shop.orders o JOIN shop.order_lines l USING (order_id) WHERE o.status <> 'cancelled')
             + (SELECT count(*) FROM shop.product_views) + (SELECT count(*) FROM shop.reviews)
        """;

    [Fact]
    public async Task The_shop_role_can_read_and_cannot_write()
    {
        await using var reader = NpgsqlDataSource.Create(world.ShopReader);
        await using (var read = reader.CreateCommand("SELECT count(*) FROM shop.products"))
        {
            Assert.Equal(200L, await read.ExecuteScalarAsync());
        }
        await using var write = reader.CreateCommand("UPDATE shop.products SET price_cents = 1 WHERE product_id = 1001");
        var refused = await Assert.ThrowsAsync<PostgresException>(() => write.ExecuteNonQueryAsync());
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, refused.SqlState);
    }

    [Fact]
    public async Task A_build_reads_the_shop_through_the_mapping_and_adds_recdbs_users_and_events()
    {
        await using var provider = SourceServices();
        var source = provider.GetRequiredService<SourceDatabase>();
        await using var recdb = NpgsqlDataSource.Create(world.RecDb);

        var dataset = await DatasetReader.ReadAllAsync(recdb, source, CancellationToken.None);

        Assert.Equal(200, dataset.Items.Count);
        Assert.All(dataset.Items, item => Assert.InRange(item.Id, 1001, 1200));
        var product4 = dataset.Items.Single(i => i.Id == 1004);
        Assert.Equal("electronics", product4.Category);
        Assert.Equal(100.80m, product4.Price); // 10,080 cents
        Assert.Equal(["kw4", "kw4"], product4.Tags);
        Assert.False(dataset.Items.Single(i => i.Id == 1050).Active); // discontinued
        // Every shop event and every recdb event (6 seeded, and any another test of this class posted).
        Assert.Equal(await world.ShopCountAsync(ShopInteractions) + await world.RecDbCountAsync("SELECT count(*) FROM interactions"),
            dataset.Interactions.Length);
        Assert.Equal(6, dataset.Interactions.Count(e => e.UserId == 5000 && e.Type == InteractionType.Purchase));
        Assert.Contains(dataset.Interactions, e => e.Type == InteractionType.Rating && e.Value is >= 3 and <= 5);
        var users = dataset.Users.ToDictionary(u => u.Id);
        Assert.Equal(301, users.Count);
        Assert.Equal("f", users[9].Gender);   // the shop has none: recdb's fills it
        Assert.Equal("f", users[8].Gender);   // the shop's wins over recdb's 'm'
        Assert.Equal(77, users[8].GeoId);
        Assert.Equal(("25-34", 213), (users[5000].AgeGroup, users[5000].GeoId));
    }

    [Fact]
    public async Task The_default_mapping_reads_views_named_like_the_readmes_example()
    {
        var postgres = await TestServers.Postgres;
        var shop = await postgres.CreateDatabaseAsync("shopv");
        await using (var admin = NpgsqlDataSource.Create(shop))
        {
            await using var setup = admin.CreateCommand(await File.ReadAllTextAsync(ShopWorld.SampleFile("sample-shop.sql")) + """
                CREATE VIEW recapp_items AS
                  SELECT p.product_id AS id, p.name AS title, c.label AS category, string_to_array(p.keywords, ',') AS tags,
                         p.price_cents / 100.0 AS price, p.region_code AS geo_id, NOT p.discontinued AS active,
                         p.added_on AT TIME ZONE 'UTC' AS created_at, p.modified_on AT TIME ZONE 'UTC' AS updated_at
                  FROM shop.products p JOIN shop.categories c USING (category_id);
                CREATE VIEW recapp_users AS
                  SELECT customer_no AS id, lower(sex) AS gender, NULL::text AS age_group, region_code AS geo_id FROM shop.customers;
                CREATE VIEW recapp_interactions AS
                  SELECT o.customer_no AS user_id, l.product_id AS item_id, 'purchase' AS type, NULL::real AS value, o.placed_at AS occurred_at
                  FROM shop.orders o JOIN shop.order_lines l USING (order_id) WHERE o.status <> 'cancelled'
                  UNION ALL SELECT customer_no, product_id, 'view', NULL, viewed_at FROM shop.product_views;
                GRANT SELECT ON recapp_items, recapp_users, recapp_interactions TO shop_reader;
                """);
            await setup.ExecuteNonQueryAsync();
        }
        var reader = new NpgsqlConnectionStringBuilder(shop) { Username = "shop_reader", Password = "shop-reader" }.ConnectionString;
        await using var provider = new ServiceCollection()
            .AddLogging()
            .AddSingleton<IConfiguration>(new ConfigurationBuilder().Build()) // no mapping: the defaults
            .AddKeyedSingleton(SourceDatabaseOptions.ConnectionName, (_, _) => NpgsqlDataSource.Create(reader))
            .AddSourceDatabase()
            .BuildServiceProvider();
        var source = provider.GetRequiredService<SourceDatabase>();
        await using var recdb = NpgsqlDataSource.Create(world.RecDb);

        var dataset = await DatasetReader.ReadAllAsync(recdb, source, CancellationToken.None);
        var user8 = await source.ReadUserAsync(8, 50, CancellationToken.None);

        Assert.Equal(200, dataset.Items.Count);
        Assert.Equal("f", dataset.Users.Single(u => u.Id == 8).Gender);
        Assert.Contains(dataset.Interactions, e => e.UserId == 8 && e.Type == InteractionType.Purchase);
        Assert.Equal(12 + 4, user8.Recent.Count); // 12 views and two paid orders of two lines
    }

    [Fact]
    public async Task A_users_history_combines_both_databases_and_reads_only_that_user()
    {
        await using var provider = SourceServices();
        var source = provider.GetRequiredService<SourceDatabase>();

        var shopUser = await source.ReadUserAsync(8, 5, CancellationToken.None);
        var stranger = await source.ReadUserAsync(5000, 5, CancellationToken.None);

        var expected = await world.ShopCountAsync("""
            SELECT count(DISTINCT product_id) FROM (SELECT product_id FROM shop.product_views WHERE customer_no = 8
                UNION ALL SELECT l.product_id FROM shop.orders o JOIN shop.order_lines l USING (order_id) WHERE o.customer_no = 8 AND o.status <> 'cancelled'
                UNION ALL SELECT product_id FROM shop.reviews WHERE customer_no = 8) AS s
            """);
        Assert.Equal(5, shopUser.Recent.Count);
        Assert.Equal(expected, shopUser.Seen.Count);
        Assert.True(shopUser.Recent.Zip(shopUser.Recent.Skip(1)).All(p => p.First.OccurredAt >= p.Second.OccurredAt));
        Assert.Equal("f", shopUser.Demographics!.Gender);
        Assert.Empty(stranger.Seen);
        Assert.Null(stranger.Demographics);
    }

    [Fact]
    public async Task Refresher_builds_from_shop_and_recdb_and_the_api_serves_it_without_writing_to_the_shop()
    {
        var before = await world.ShopFingerprintAsync();

        // The real Refresher composition with its real jobs: an empty model makes them run at once.
        var settings = new Dictionary<string, string?>(world.Mapping)
        {
            ["environment"] = "Testing",
            ["ConnectionStrings:recdb"] = world.RecDb,
            ["ConnectionStrings:redis"] = world.Redis,
            ["ConnectionStrings:maindb"] = world.ShopReader,
            ["Caching:KeyPrefix"] = world.KeyPrefix,
            ["Refresher:InstanceName"] = "shop-refresher",
            ["Refresher:LeaderCheckInterval"] = "00:00:00.300",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        var builder = RecApp.Refresher.Program.CreateWorkerBuilder([.. settings.SelectMany(a => new[] { $"--{a.Key}", a.Value! })]);
        using (var refresher = builder.Build())
        {
            await refresher.StartAsync();
            await LocalProcess.WaitUntilAsync(
                async () => await world.RecDbCountAsync(
                    "SELECT count(DISTINCT job) FROM job_runs WHERE status = 'succeeded' AND job IN ('popular', 'profiles', 'similarities')") == 3,
                TimeSpan.FromSeconds(60), "the Refresher's three build jobs to succeed from the shop's data");
            await refresher.StopAsync();
        }
        Assert.Equal(0, await world.RecDbCountAsync("SELECT count(*) FROM items")); // the catalog stayed in the shop

        await using var api = new ApiFactory(world.RecDb, world.Redis, new Dictionary<string, string?>(world.Mapping)
        {
            ["ConnectionStrings:maindb"] = world.ShopReader,
            ["Caching:KeyPrefix"] = world.KeyPrefix,
            ["RateLimiting:Enabled"] = "false",
            ["Logging:LogLevel:Default"] = "Warning",
        });
        using var client = api.CreateClient();

        // The service contract's own example request, on the shop's catalog.
        var popular = await (await client.PostJsonAsync("/popular", """
            {"user_params": {"gender": "f", "age": "25-34", "category": "electronics", "geo_id": 213},
             "filters": {"price_from": 500, "price_to": 2000}, "pagination": {"page": 1, "limit": 10}}
            """)).JsonAsync();
        var popularItems = popular.Items();
        Assert.NotEmpty(popularItems);
        foreach (var id in popularItems)
        {
            var item = await (await client.GetAsync($"/items/{id}")).JsonAsync();
            Assert.Equal("electronics", item.GetProperty("category").GetString());
            Assert.InRange(item.GetProperty("price").GetDecimal(), 500m, 2000m);
        }

        // A shop customer with history: collaborative, from the shop's products, nothing they already have.
        const string personalized = """{"user_id": 8, "pagination": {"page": 1, "limit": 10}}""";
        var first = await (await client.PostJsonAsync("/personalized", personalized)).JsonAsync();
        Assert.Equal("collaborative", first.GetProperty("algorithm_used").GetString());
        var firstItems = first.Items();
        Assert.NotEmpty(firstItems);
        Assert.All(firstItems, id => Assert.InRange(id, 1001, 1200));
        var owned = await world.ShopCountAsync($"SELECT count(*) FROM shop.product_views WHERE customer_no = 8 AND product_id = ANY (ARRAY[{string.Join(',', firstItems)}])");
        Assert.Equal(0, owned);

        // An event posted to RecApp lands in recdb, and changes that user's next answer at once.
        var top = firstItems[0];
        var posted = await client.PostJsonAsync("/interactions", $$"""{"user_id": 8, "item_id": {{top}}, "type": "purchase"}""");
        Assert.Equal(HttpStatusCode.Accepted, posted.StatusCode);
        Assert.Equal(1, await world.RecDbCountAsync($"SELECT count(*) FROM interactions WHERE user_id = 8 AND item_id = {top}"));
        var next = await (await client.PostJsonAsync("/personalized", personalized)).JsonAsync();
        Assert.DoesNotContain(top, next.Items());
        Assert.NotEqual(firstItems, next.Items());

        // The writer checks items against the shop's catalog.
        var unknown = await client.PostJsonAsync("/interactions", """{"user_id": 8, "item_id": 999999, "type": "view"}""");
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);

        // /stats: the service contract's main-database statistics are the shop's.
        var data = (await (await client.GetAsync("/stats")).JsonAsync()).GetProperty("data");
        Assert.Equal("maindb", data.GetProperty("source").GetString());
        Assert.Equal(200, data.GetProperty("items").GetInt64());
        Assert.Equal(196, data.GetProperty("active_items").GetInt64());
        Assert.Equal(300, data.GetProperty("users").GetInt64());
        Assert.Equal(await world.ShopCountAsync(ShopInteractions), data.GetProperty("interactions").GetInt64());
        Assert.Equal(0, data.GetProperty("likes").GetInt64());
        Assert.Equal(await world.RecDbCountAsync("SELECT count(*) FROM interactions"), data.GetProperty("api_interactions").GetInt64());

        // The catalog is the shop's: item writes are refused, saying why.
        var put = await client.PutJsonAsync("/items/1001", """{"title": "x", "category": "books", "price": 1}""");
        Assert.Equal(HttpStatusCode.Conflict, put.StatusCode);
        Assert.Equal("application/problem+json", put.Content.Headers.ContentType?.MediaType);
        Assert.Contains("maindb", (await put.JsonAsync()).GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.Conflict, (await client.DeleteAsync("/items/1001")).StatusCode);

        // Even a write RecApp's own connection tried would fail before reaching the grants: its sessions are read-only.
        var source = api.Services.GetRequiredService<SourceDatabase>();
        await using var attempt = source.DataSource.CreateCommand("CREATE TABLE public.recapp_was_here (id int)");
        var refused = await Assert.ThrowsAsync<PostgresException>(() => attempt.ExecuteNonQueryAsync());
        Assert.Equal(PostgresErrorCodes.ReadOnlySqlTransaction, refused.SqlState);

        Assert.Equal(before, await world.ShopFingerprintAsync());
    }

    [Fact]
    public async Task Seed_002s_MAIN_DATABASE_URL_alone_configures_the_source_and_health_reports_it()
    {
        var shop = new NpgsqlConnectionStringBuilder(world.ShopReader);
        await using var api = new ApiFactory(world.RecDb, world.Redis, new Dictionary<string, string?>(world.Mapping)
        {
            ["MAIN_DATABASE_URL"] = $"postgresql://shop_reader:shop-reader@{shop.Host}:{shop.Port}/{shop.Database}",
            ["Caching:KeyPrefix"] = world.KeyPrefix,
            ["Logging:LogLevel:Default"] = "Warning",
        });
        using var client = api.CreateClient();

        var health = await (await client.GetAsync("/health")).JsonAsync();

        Assert.Equal("Healthy", health.GetProperty("entries").GetProperty("maindb").GetProperty("status").GetString());
        var item = await (await client.GetAsync("/items/1004")).JsonAsync();
        Assert.Equal(100.80m, item.GetProperty("price").GetDecimal()); // read from the shop through the URL's connection
    }

    private ServiceProvider SourceServices() =>
        new ServiceCollection()
            .AddLogging()
            .AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(world.Mapping).Build())
            .AddKeyedSingleton(SourceDatabaseOptions.ConnectionName, (_, _) => NpgsqlDataSource.Create(world.ShopReader))
            .AddSourceDatabase()
            .BuildServiceProvider();
}

/// <summary>The shop's database goes away after the API loaded its catalog: RecApp degrades, it does not fail.</summary>
public sealed class SourceOutageTests
{
    [Fact]
    public async Task With_the_shop_down_the_api_stays_ready_degraded_and_keeps_answering_and_accepting_known_items()
    {
        await using var shopServer = await PostgresServer.StartPrivateAsync();
        var shopAdmin = await shopServer.CreateDatabaseAsync("shop");
        await using (var admin = NpgsqlDataSource.Create(shopAdmin))
        {
            await using var setup = admin.CreateCommand(await File.ReadAllTextAsync(ShopWorld.SampleFile("sample-shop.sql")));
            await setup.ExecuteNonQueryAsync();
        }
        var shopReader = new NpgsqlConnectionStringBuilder(shopAdmin) { Username = "shop_reader", Password = "shop-reader", Timeout = 1 }.ConnectionString;
        var mapping = new ConfigurationBuilder().AddJsonFile(ShopWorld.SampleFile("mapping.json")).Build()
            .AsEnumerable().Where(e => e.Value is not null).ToDictionary(e => e.Key, e => e.Value);
        var recdb = new DatabaseFixture();
        await recdb.InitializeAsync();

        // The engine's own build jobs, reading the shop.
        var jobs = new ServiceCollection()
            .AddLogging()
            .AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(mapping).Build())
            .AddSingleton(_ => NpgsqlDataSource.Create(recdb.ConnectionString))
            .AddKeyedSingleton(SourceDatabaseOptions.ConnectionName, (_, _) => NpgsqlDataSource.Create(shopReader))
            .AddSourceDatabase()
            .AddModelJobs();
        await using (var provider = jobs.BuildServiceProvider())
        {
            var all = provider.GetServices<IModelJob>().ToDictionary(j => j.Name);
            foreach (var job in new[] { JobNames.Popular, JobNames.Profiles, JobNames.Similarities })
            {
                await all[job].RunAsync(CancellationToken.None);
            }
        }

        await using var api = new ApiFactory(recdb.ConnectionString, recdb.RedisConnectionString, new Dictionary<string, string?>(mapping)
        {
            ["ConnectionStrings:maindb"] = shopReader,
            ["Caching:KeyPrefix"] = recdb.KeyPrefix,
            ["RateLimiting:Enabled"] = "false",
            ["Logging:LogLevel:Default"] = "Error",
        });
        using var client = api.CreateClient();
        const string popularRequest = """{"pagination": {"page": 1, "limit": 10}}""";
        const string user8 = """{"user_id": 8, "pagination": {"page": 1, "limit": 10}}""";
        var popularBefore = (await (await client.PostJsonAsync("/popular", popularRequest)).JsonAsync()).Items();
        var user8Before = await (await client.PostJsonAsync("/personalized", user8)).JsonAsync();
        Assert.NotEmpty(popularBefore);
        Assert.Equal("collaborative", user8Before.GetProperty("algorithm_used").GetString());

        shopServer.Stop();

        await LocalProcess.WaitUntilAsync(async () =>
            {
                using var response = await client.GetAsync("/health");
                var report = await response.JsonAsync();
                return response.StatusCode == HttpStatusCode.OK && report.GetProperty("status").GetString() == "Degraded"
                    && report.GetProperty("entries").GetProperty("maindb").GetProperty("status").GetString() == "Unhealthy";
            }, TimeSpan.FromSeconds(30), "/health to say Degraded with maindb Unhealthy (and stay 200: ready)");

        Assert.Equal(popularBefore, (await (await client.PostJsonAsync("/popular", popularRequest)).JsonAsync()).Items());
        var user8During = await (await client.PostJsonAsync("/personalized", user8)).JsonAsync();
        Assert.Equal(user8Before.Items(), user8During.Items());
        var missDuring = await client.PostJsonAsync("/personalized", """{"user_id": 12, "pagination": {"page": 1, "limit": 10}}""");
        Assert.Equal(HttpStatusCode.OK, missDuring.StatusCode); // the in-process popular fallback
        Assert.NotEmpty((await missDuring.JsonAsync()).Items());
        // The item is in the in-process catalog: the event is accepted without asking the shop, and lands in recdb.
        var posted = await client.PostJsonAsync("/interactions", $$"""{"user_id": 12, "item_id": {{popularBefore[0]}}, "type": "click"}""");
        Assert.Equal(HttpStatusCode.Accepted, posted.StatusCode);
        await using var own = NpgsqlDataSource.Create(recdb.ConnectionString);
        await using var stored = own.CreateCommand($"SELECT count(*) FROM interactions WHERE user_id = 12 AND item_id = {popularBefore[0]}");
        Assert.Equal(1L, await stored.ExecuteScalarAsync());
    }
}
