using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace Microsoft.Extensions.Hosting;

/// <summary>PostgreSQL clients registered the way Aspire's Npgsql integrations name them.</summary>
public static class PostgresClientExtensions
{
    /// <summary>Connect timeout used when the connection string sets none.</summary>
    public const int DefaultConnectTimeoutSeconds = 3;

    /// <summary>
    /// Registers a singleton <see cref="NpgsqlDataSource"/> from <c>ConnectionStrings:{connectionName}</c> and a
    /// health check named after the connection. <paramref name="critical"/> false makes a database outage
    /// degrade the service (it can still answer from cache) instead of failing it.
    /// </summary>
    public static IHostApplicationBuilder AddNpgsqlDataSource(
        this IHostApplicationBuilder builder, string connectionName, bool critical = true)
    {
        var connectionString = builder.Configuration.GetRequiredConnectionString(connectionName);
        // Npgsql waits 15 s for a connection by default; an unreachable host would stall every request that long.
        // A short wait lets callers degrade (serve from cache) quickly. An explicit Timeout in the string wins.
        var settings = new NpgsqlConnectionStringBuilder(connectionString);
        if (!Regex.IsMatch(connectionString, @"(^|;)\s*Timeout\s*=", RegexOptions.IgnoreCase))
        {
            settings.Timeout = DefaultConnectTimeoutSeconds;
        }
        builder.Services.AddSingleton(sp =>
        {
            var dataSource = new NpgsqlDataSourceBuilder(settings.ConnectionString);
            dataSource.UseLoggerFactory(sp.GetService<Microsoft.Extensions.Logging.ILoggerFactory>());
            return dataSource.Build();
        });
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
            connectionName,
            sp => new PostgresHealthCheck(sp.GetRequiredService<NpgsqlDataSource>()),
            failureStatus: HealthStatus.Unhealthy,
            tags: critical ? ["ready"] : ["ready", ServiceDefaultsExtensions.DegradableTag],
            timeout: TimeSpan.FromSeconds(3)));
        return builder;
    }

    /// <summary>Registers a pooled EF Core context over the same <see cref="NpgsqlDataSource"/>.</summary>
    public static IHostApplicationBuilder AddNpgsqlDbContext<TContext>(this IHostApplicationBuilder builder)
        where TContext : DbContext
    {
        builder.Services.AddDbContextPool<TContext>((sp, options) =>
            options.UseNpgsql(sp.GetRequiredService<NpgsqlDataSource>()));
        return builder;
    }

    private sealed class PostgresHealthCheck(NpgsqlDataSource dataSource) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                await using var command = dataSource.CreateCommand("SELECT 1");
                await command.ExecuteScalarAsync(cancellationToken);
                return HealthCheckResult.Healthy("PostgreSQL answered.");
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException)
            {
                return new HealthCheckResult(context.Registration.FailureStatus, "PostgreSQL is unreachable.", ex);
            }
        }
    }
}
