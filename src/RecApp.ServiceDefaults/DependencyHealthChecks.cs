using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;
using StackExchange.Redis;

namespace RecApp.ServiceDefaults;

/// <summary>Section <c>HealthChecks</c>: how long a dependency's health check may take.</summary>
public sealed class DependencyHealthOptions
{
    public const string SectionName = "HealthChecks";

    /// <summary>
    /// The longest one dependency check (PostgreSQL, Redis) waits for an answer. A check that runs out reports Degraded
    /// with the reason instead of holding <c>/health</c>: a frozen server must not make a probe time out.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:00:30")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(1);
}

/// <summary>
/// A dependency's check, bounded: the probe is given up after <see cref="DependencyHealthOptions.Timeout"/> whatever
/// the client library does with cancellation (Npgsql waits for a frozen server to acknowledge a cancel), and the
/// given-up probe finishes in the background, observed.
/// </summary>
internal abstract class BoundedHealthCheck(TimeSpan timeout, string dependency) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        using var giveUp = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        giveUp.CancelAfter(timeout);
        var probe = ProbeAsync(context, giveUp.Token);
        try
        {
            return await probe.WaitAsync(timeout, cancellationToken);
        }
        catch (TimeoutException)
        {
            _ = probe.ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);
            return HealthCheckResult.Degraded($"{dependency} did not answer within {timeout.TotalMilliseconds:F0} ms.");
        }
    }

    protected abstract Task<HealthCheckResult> ProbeAsync(HealthCheckContext context, CancellationToken cancellationToken);
}

/// <summary>PostgreSQL answers <c>SELECT 1</c>.</summary>
internal sealed class PostgresHealthCheck(NpgsqlDataSource dataSource, TimeSpan timeout) : BoundedHealthCheck(timeout, "PostgreSQL")
{
    protected override async Task<HealthCheckResult> ProbeAsync(HealthCheckContext context, CancellationToken cancellationToken)
    {
        try
        {
            await using var command = dataSource.CreateCommand("SELECT 1");
            await command.ExecuteScalarAsync(cancellationToken);
            return HealthCheckResult.Healthy("PostgreSQL answered.");
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException or OperationCanceledException)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, "PostgreSQL is unreachable.", ex);
        }
    }
}

/// <summary>Redis is connected and answers <c>PING</c>.</summary>
internal sealed class RedisHealthCheck(IConnectionMultiplexer redis, TimeSpan timeout) : BoundedHealthCheck(timeout, "Redis")
{
    protected override async Task<HealthCheckResult> ProbeAsync(HealthCheckContext context, CancellationToken cancellationToken)
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
        catch (Exception ex) when (ex is RedisException or TimeoutException or OperationCanceledException)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, "Redis did not answer PING.", ex);
        }
    }
}
