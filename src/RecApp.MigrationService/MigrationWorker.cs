using System.Diagnostics;
using Microsoft.Extensions.Options;
using Npgsql;
using RecApp.Recommendations.Data;

namespace RecApp.MigrationService;

/// <summary>
/// Creates the database named in <c>ConnectionStrings:recdb</c> when it does not exist (the local-process
/// PostgreSQL starts with an empty cluster), applies <see cref="DatabaseMigrator"/>, and stops the host. With
/// <c>ConnectionStrings:maindb-owner</c> it also creates the sample shop (<see cref="SampleShop"/>), which is no part
/// of RecApp's schema: the migrator owns recdb only. A failure
/// sets a non-zero exit code, so the services that wait for this step's completion are not started.
/// </summary>
public sealed class MigrationWorker(
    IConfiguration configuration,
    IOptions<MigrationOptions> options,
    IHostApplicationLifetime lifetime,
    ILoggerFactory loggerFactory,
    ILogger<MigrationWorker> logger) : BackgroundService
{
    public const string ConnectionName = "recdb";

    /// <summary>Set by the AppHost when <c>Parameters:source-database</c> is <c>sample</c>: where to create the sample shop.</summary>
    public const string SampleShopConnectionName = "maindb-owner";

    private static readonly ActivitySource s_activity = new("RecApp.MigrationService");

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var activity = s_activity.StartActivity("Migrate database", ActivityKind.Client);
        try
        {
            var connectionString = configuration.GetConnectionString(ConnectionName)
                ?? throw new InvalidOperationException($"ConnectionStrings:{ConnectionName} is not set.");
            await CreateDatabaseIfMissingAsync(connectionString, stoppingToken);
            await using var dataSource = NpgsqlDataSource.Create(connectionString);
            var applied = await new DatabaseMigrator(dataSource, loggerFactory.CreateLogger<DatabaseMigrator>()).MigrateAsync(stoppingToken);
            logger.LogInformation("Database schema is current ({Applied} migrations applied by this run).", applied);
            if (configuration.GetConnectionString(SampleShopConnectionName) is { Length: > 0 } shop)
            {
                await CreateDatabaseIfMissingAsync(shop, stoppingToken);
                await SampleShop.EnsureAsync(shop, logger, stoppingToken);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
        {
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            logger.LogError(ex, "Database migration failed.");
            Environment.ExitCode = 1;
        }
        lifetime.StopApplication();
    }

    /// <summary>Connects to the server's <c>postgres</c> database and creates the target database if absent.</summary>
    private async Task CreateDatabaseIfMissingAsync(string connectionString, CancellationToken cancellationToken)
    {
        var target = new NpgsqlConnectionStringBuilder(connectionString);
        var name = target.Database ?? throw new InvalidOperationException("A connection string names no database.");
        var maintenance = new NpgsqlConnectionStringBuilder(connectionString) { Database = "postgres", Pooling = false };

        await using var connection = await OpenWithRetryAsync(maintenance.ConnectionString, cancellationToken);
        await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = $1", connection);
        exists.Parameters.Add(new NpgsqlParameter { Value = name });
        if (await exists.ExecuteScalarAsync(cancellationToken) is not null)
        {
            return;
        }
        try
        {
            // An identifier cannot be a parameter; quote it instead.
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name.Replace("\"", "\"\"", StringComparison.Ordinal)}\"", connection);
            await create.ExecuteNonQueryAsync(cancellationToken);
            logger.LogInformation("Created database {Database}.", name);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.DuplicateDatabase)
        {
            // Created concurrently (e.g. by Aspire's AddDatabase in container mode): nothing to do.
        }
    }

    private async Task<NpgsqlConnection> OpenWithRetryAsync(string connectionString, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + options.Value.ConnectTimeout;
        var delay = TimeSpan.FromMilliseconds(200);
        while (true)
        {
            var connection = new NpgsqlConnection(connectionString);
            try
            {
                await connection.OpenAsync(cancellationToken);
                return connection;
            }
            catch (Exception ex) when (ex is NpgsqlException { IsTransient: true } or PostgresException { SqlState: PostgresErrorCodes.CannotConnectNow }
                                       && DateTime.UtcNow < deadline)
            {
                await connection.DisposeAsync();
                logger.LogInformation("PostgreSQL not reachable yet ({Message}); retrying.", ex.Message);
                await Task.Delay(delay, cancellationToken);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(2).Ticks));
            }
        }
    }
}
