namespace RecApp.Tests.Infrastructure;

/// <summary>
/// The PostgreSQL and Redis servers shared by the whole test run, started once on first use and stopped when
/// the test process exits. Tests that stop a server (outage tests) start private ones instead.
/// </summary>
public static class TestServers
{
    private static readonly Lazy<Task<PostgresServer>> s_postgres = new(() => Track(PostgresServer.StartSharedOrPrivateAsync()));
    private static readonly Lazy<Task<RedisServer>> s_redis = new(() => Track(RedisServer.StartSharedOrPrivateAsync()));
    private static readonly List<IAsyncDisposable> s_started = [];

    static TestServers()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            lock (s_started)
            {
                foreach (var server in s_started)
                {
                    server.DisposeAsync().AsTask().GetAwaiter().GetResult();
                }
            }
        };
    }

    public static Task<PostgresServer> Postgres => s_postgres.Value;
    public static Task<RedisServer> Redis => s_redis.Value;

    private static async Task<T> Track<T>(Task<T> starting) where T : IAsyncDisposable
    {
        var server = await starting;
        lock (s_started)
        {
            s_started.Add(server);
        }
        return server;
    }
}

/// <summary>
/// Per test class: a fresh, migrated database on the shared PostgreSQL, the shared Redis, and a key prefix
/// unique to the class. Use as <c>IClassFixture&lt;DatabaseFixture&gt;</c>.
/// </summary>
public sealed class DatabaseFixture : IAsyncLifetime
{
    public string ConnectionString { get; private set; } = "";
    public string RedisConnectionString { get; private set; } = "";
    public string KeyPrefix { get; } = $"test-{Guid.NewGuid():N}"[..17] + ":";

    public async ValueTask InitializeAsync()
    {
        var postgres = await TestServers.Postgres;
        var redis = await TestServers.Redis;
        ConnectionString = await postgres.CreateDatabaseAsync();
        RedisConnectionString = redis.ConnectionString;
        await using var dataSource = Npgsql.NpgsqlDataSource.Create(ConnectionString);
        await new RecApp.Data.Migrations.DatabaseMigrator(
            dataSource, Microsoft.Extensions.Logging.Abstractions.NullLogger<RecApp.Data.Migrations.DatabaseMigrator>.Instance)
            .MigrateAsync();
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
