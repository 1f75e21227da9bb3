using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Microsoft.Extensions.Hosting;

/// <summary>Redis client registered the way Aspire's StackExchange.Redis integration names it.</summary>
public static class RedisClientExtensions
{
    /// <summary>
    /// Registers a singleton <see cref="IConnectionMultiplexer"/> from <c>ConnectionStrings:{connectionName}</c>.
    /// The connection never aborts on a failed connect: the service starts while Redis is down and reconnects
    /// when it returns. Redis is a cache here, so its health check only ever degrades the service.
    /// </summary>
    public static IHostApplicationBuilder AddRedisClient(this IHostApplicationBuilder builder, string connectionName)
    {
        var connectionString = builder.Configuration.GetRequiredConnectionString(connectionName);
        builder.Services.AddSingleton<IConnectionMultiplexer>(sp => ConnectRedis(connectionString, sp.GetService<ILoggerFactory>()));
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
            connectionName,
            sp => new RedisHealthCheck(sp.GetRequiredService<IConnectionMultiplexer>()),
            failureStatus: HealthStatus.Unhealthy,
            tags: ["ready", ServiceDefaultsExtensions.DegradableTag],
            timeout: TimeSpan.FromSeconds(3)));
        return builder;
    }

    /// <summary>Opens a multiplexer that tolerates Redis being down at start-up and reconnects by itself.</summary>
    public static ConnectionMultiplexer ConnectRedis(string connectionString, ILoggerFactory? loggerFactory = null)
    {
        var options = ConfigurationOptions.Parse(connectionString);
        options.AbortOnConnectFail = false;
        if (!connectionString.Contains("connectTimeout", StringComparison.OrdinalIgnoreCase))
        {
            options.ConnectTimeout = 2000;
        }
        if (!connectionString.Contains("syncTimeout", StringComparison.OrdinalIgnoreCase))
        {
            options.SyncTimeout = 2000;
        }
        var multiplexer = ConnectionMultiplexer.Connect(options);
        if (loggerFactory is not null)
        {
            var logger = loggerFactory.CreateLogger("RecApp.Redis");
            multiplexer.ConnectionFailed += (_, e) =>
                logger.LogWarning(e.Exception, "Redis connection to {Endpoint} failed ({FailureType}).", e.EndPoint, e.FailureType);
            multiplexer.ConnectionRestored += (_, e) =>
                logger.LogInformation("Redis connection to {Endpoint} restored.", e.EndPoint);
        }
        return multiplexer;
    }

    private sealed class RedisHealthCheck(IConnectionMultiplexer redis) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            if (!redis.IsConnected)
            {
                return new HealthCheckResult(context.Registration.FailureStatus, "Redis is not connected.");
            }
            try
            {
                var latency = await redis.GetDatabase().PingAsync().WaitAsync(cancellationToken);
                return HealthCheckResult.Healthy($"Redis answered PING in {latency.TotalMilliseconds:F1} ms.");
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                return new HealthCheckResult(context.Registration.FailureStatus, "Redis did not answer PING.", ex);
            }
        }
    }
}
