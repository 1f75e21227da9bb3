using System.Diagnostics;
using Microsoft.Extensions.Options;
using Npgsql;
using RecApp.Data;
using RecApp.Data.Migrations;
using RecApp.Data.Source;

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
            await DatabaseCreator.CreateIfMissingAsync(connectionString, options.Value.ConnectTimeout, logger, stoppingToken);
            await using var dataSource = NpgsqlDataSource.Create(connectionString);
            var applied = await new DatabaseMigrator(dataSource, loggerFactory.CreateLogger<DatabaseMigrator>()).MigrateAsync(stoppingToken);
            logger.LogInformation("Database schema is current ({Applied} migrations applied by this run).", applied);
            if (configuration.GetConnectionString(SampleShopConnectionName) is { Length: > 0 } shop)
            {
                await DatabaseCreator.CreateIfMissingAsync(shop, options.Value.ConnectTimeout, logger, stoppingToken);
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
}
