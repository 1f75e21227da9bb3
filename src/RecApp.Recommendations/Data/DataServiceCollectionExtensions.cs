using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace RecApp.Recommendations.Data;

public static class DataServiceCollectionExtensions
{
    /// <summary>The migrator, run once at start-up by <see cref="MigrationHostedService"/>.</summary>
    public static IServiceCollection AddDatabaseMigrations(this IServiceCollection services)
    {
        services.AddSingleton<DatabaseMigrator>();
        services.AddSingleton<MigrationHostedService>();
        services.AddHostedService(sp => sp.GetRequiredService<MigrationHostedService>());
        return services;
    }
}

/// <summary>
/// Applies migrations before the host starts serving. If the database is unreachable it keeps retrying in the
/// background instead of failing start-up, so an API can still answer from cache; callers that need the schema
/// await <see cref="Completion"/>.
/// </summary>
public sealed class MigrationHostedService(DatabaseMigrator migrator, ILogger<MigrationHostedService> logger) : IHostedService
{
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stopping = new();

    public Task Completion => _completion.Task;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await migrator.MigrateAsync(cancellationToken);
            _completion.TrySetResult();
        }
        catch (Exception ex) when (ex is Npgsql.NpgsqlException or TimeoutException or System.Net.Sockets.SocketException)
        {
            logger.LogWarning(ex, "Database unreachable at start-up; migrations will be retried in the background.");
            _ = RetryAsync(_stopping.Token);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _stopping.Cancel();
        return Task.CompletedTask;
    }

    private async Task RetryAsync(CancellationToken cancellationToken)
    {
        var delay = TimeSpan.FromSeconds(1);
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(delay, cancellationToken);
                await migrator.MigrateAsync(cancellationToken);
                _completion.TrySetResult();
                logger.LogInformation("Migrations applied after the database came back.");
                return;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is Npgsql.NpgsqlException or TimeoutException or System.Net.Sockets.SocketException)
            {
                delay = TimeSpan.FromSeconds(Math.Min(delay.TotalSeconds * 2, 30));
                logger.LogDebug(ex, "Database still unreachable; next migration attempt in {Delay}.", delay);
            }
        }
    }
}
