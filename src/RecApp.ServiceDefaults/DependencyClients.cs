using System.Diagnostics;
using System.Data.Common;
using Aspire.Npgsql;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Npgsql;
using StackExchange.Redis;

namespace RecApp.ServiceDefaults;

/// <summary>
/// PostgreSQL and Redis through Aspire's client integrations (Aspire.Npgsql, Aspire.StackExchange.Redis), with
/// RecApp's settings on top: short connect timeouts and fail-fast Redis so a dependency outage degrades answers
/// instead of stalling them, and one health check per dependency named after its connection.
/// </summary>
public static class DependencyClients
{
    /// <summary>PostgreSQL connect timeout used when the connection string sets none (Npgsql's own default is 15 s).</summary>
    public const int DefaultPostgresConnectTimeoutSeconds = 3;

    /// <summary>
    /// Npgsql's automatic preparation when the connection string sets none (Npgsql's own default is 0, off): a statement
    /// a connection has run five times is prepared on it, so PostgreSQL stops parsing and planning it per execution. A
    /// cache miss's history read (three statements) cost PostgreSQL 0.61-0.73 ms of CPU without it and 0.36-0.48 ms with
    /// it (docs/PERFORMANCE.md). <c>Max Auto Prepare=0</c> turns it off, e.g. behind a PgBouncer in transaction mode
    /// without prepared-statement support.
    /// </summary>
    public const int DefaultPostgresMaxAutoPrepare = 32;

    /// <summary>
    /// The <see cref="NpgsqlDataSource"/> for <c>ConnectionStrings:{connectionName}</c>, with Npgsql tracing and
    /// metrics. <paramref name="critical"/> false makes an outage degrade the service (it still answers from cache
    /// and the in-process model) instead of failing it.
    /// </summary>
    public static IHostApplicationBuilder AddPostgresDataSource(
        this IHostApplicationBuilder builder, string connectionName, bool critical = true) =>
        builder.AddPostgresDataSource(connectionName, critical, keyed: false, readOnly: false);

    /// <summary>
    /// A second, read-only PostgreSQL source registered as a keyed <see cref="NpgsqlDataSource"/> (key: the connection
    /// name), when <c>ConnectionStrings:{connectionName}</c> is set; false when it is not (the feature is off). Every
    /// session starts with <c>default_transaction_read_only=on</c>, so a write through it fails even when the role
    /// could write. Its health check only degrades the service.
    /// </summary>
    public static bool AddOptionalReadOnlyPostgresDataSource(this IHostApplicationBuilder builder, string connectionName)
    {
        if (string.IsNullOrWhiteSpace(builder.Configuration.GetConnectionString(connectionName)))
        {
            return false;
        }
        builder.AddPostgresDataSource(connectionName, critical: false, keyed: true, readOnly: true);
        return true;
    }

    private static IHostApplicationBuilder AddPostgresDataSource(
        this IHostApplicationBuilder builder, string connectionName, bool critical, bool keyed, bool readOnly)
    {
        // The shop's database is not RecApp's to tune: it may sit behind a pooler that cannot keep prepared statements.
        var connectionString = WithPostgresDefaults(builder.Configuration.GetRequiredConnectionString(connectionName), autoPrepare: !readOnly);
        if (readOnly)
        {
            connectionString = WithReadOnlySessions(connectionString);
        }
        Action<NpgsqlSettings> settings = s =>
        {
            s.ConnectionString = connectionString;
            s.DisableHealthChecks = true; // ours below: named after the connection, and degradable
        };
        // Spans only inside a request or a job: background polls (model version, catalog changes, new
        // interactions) would otherwise fill the dashboard with a root trace per second and per replica.
        Action<NpgsqlDataSourceBuilder> tracing = dataSource => dataSource.ConfigureTracing(t => t
            .ConfigureCommandFilter(_ => Activity.Current is not null)
            .ConfigureBatchFilter(_ => Activity.Current is not null));
        if (keyed)
        {
            builder.AddKeyedNpgsqlDataSource(connectionName, settings, tracing);
        }
        else
        {
            builder.AddNpgsqlDataSource(connectionName, settings, tracing);
        }
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
            connectionName,
            sp => new PostgresHealthCheck(keyed
                ? sp.GetRequiredKeyedService<NpgsqlDataSource>(connectionName)
                : sp.GetRequiredService<NpgsqlDataSource>(), HealthTimeout(sp)),
            failureStatus: HealthStatus.Unhealthy,
            tags: critical ? [ServiceDefaultsExtensions.ReadyTag] : [ServiceDefaultsExtensions.ReadyTag, ServiceDefaultsExtensions.DegradableTag],
            timeout: null));
        return builder;
    }

    /// <summary>Adds <c>-c default_transaction_read_only=on</c> to the session options (keeping any the string has).</summary>
    public static string WithReadOnlySessions(string connectionString)
    {
        var settings = new NpgsqlConnectionStringBuilder(connectionString);
        const string readOnly = "-c default_transaction_read_only=on";
        if (settings.Options?.Contains("default_transaction_read_only", StringComparison.OrdinalIgnoreCase) != true)
        {
            settings.Options = string.IsNullOrWhiteSpace(settings.Options) ? readOnly : $"{settings.Options} {readOnly}";
        }
        return settings.ConnectionString;
    }

    /// <summary>
    /// The <see cref="IConnectionMultiplexer"/> for <c>ConnectionStrings:{connectionName}</c>. Redis is a cache here:
    /// the service starts while it is down, every command fails at once while disconnected (no 5 s backlog stall), the
    /// multiplexer reconnects by itself, and its health check only ever degrades the service.
    /// </summary>
    public static IHostApplicationBuilder AddRedisConnection(this IHostApplicationBuilder builder, string connectionName)
    {
        builder.Configuration.GetRequiredConnectionString(connectionName);
        builder.AddRedisClient(connectionName,
            settings => settings.DisableHealthChecks = true,
            options =>
            {
                options.AbortOnConnectFail = false;
                options.BacklogPolicy = BacklogPolicy.FailFast;
                options.ConnectTimeout = Math.Min(options.ConnectTimeout, 2000);
                // A hung Redis must trip the cache's circuit breaker soon: FusionCache opens it on the client's own
                // timeout, not on its hard timeout (bench/load/run.sh, hung phase: one miss in 5-10 waited 250 ms with 2 s).
                options.SyncTimeout = Math.Min(options.SyncTimeout, 500);
                options.AsyncTimeout = Math.Min(options.AsyncTimeout, 500);
                options.ConnectRetry = 1;
                // Reconnect attempts every 500 ms at most, so the cache is whole again soon after Redis returns.
                options.ReconnectRetryPolicy = new LinearRetry(500);
            });
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
            connectionName,
            sp => new RedisHealthCheck(sp.GetRequiredService<IConnectionMultiplexer>(), HealthTimeout(sp)),
            failureStatus: HealthStatus.Unhealthy,
            tags: [ServiceDefaultsExtensions.ReadyTag, ServiceDefaultsExtensions.DegradableTag],
            timeout: null));
        return builder;
    }

    /// <summary>Every dependency check is bounded by its own timeout (the checks give up themselves, reporting why).</summary>
    private static TimeSpan HealthTimeout(IServiceProvider services) =>
        services.GetRequiredService<Microsoft.Extensions.Options.IOptions<DependencyHealthOptions>>().Value.Timeout;

    /// <summary>
    /// The connection string with RecApp's defaults for what it leaves unset: <see cref="DefaultPostgresConnectTimeoutSeconds"/>
    /// and, with <paramref name="autoPrepare"/>, <see cref="DefaultPostgresMaxAutoPrepare"/>. A value the string sets, even
    /// Npgsql's own default, is kept.
    /// </summary>
    public static string WithPostgresDefaults(string connectionString, bool autoPrepare = true)
    {
        // Keys as the string spells them (case-insensitive, quoting understood), before Npgsql normalizes them.
        var given = new DbConnectionStringBuilder { ConnectionString = connectionString };
        var setTimeout = !given.ContainsKey("Timeout");
        var setAutoPrepare = autoPrepare && !given.ContainsKey("Max Auto Prepare") && !given.ContainsKey("MaxAutoPrepare");
        if (!setTimeout && !setAutoPrepare)
        {
            return connectionString;
        }
        var settings = new NpgsqlConnectionStringBuilder(connectionString);
        if (setTimeout)
        {
            settings.Timeout = DefaultPostgresConnectTimeoutSeconds;
        }
        if (setAutoPrepare)
        {
            settings.MaxAutoPrepare = DefaultPostgresMaxAutoPrepare;
        }
        return settings.ConnectionString;
    }
}
