using System.ComponentModel.DataAnnotations;

namespace RecApp.Api;

/// <summary>
/// Section <c>Database</c>: the longest a request waits on PostgreSQL, so a frozen or unreachable database gives a
/// quick, honest answer instead of a held connection. (A cache miss's history read has its own bound and circuit
/// breaker, <c>DatabaseBreaker:ReadTimeout</c>; health checks have <c>HealthChecks:Timeout</c>.)
/// </summary>
public sealed class DatabaseTimeoutOptions
{
    public const string SectionName = "Database";

    /// <summary>A write (interactions, feedback, catalog, users) not confirmed within this answers 503 with Retry-After.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:01:00")]
    public TimeSpan WriteTimeout { get; set; } = TimeSpan.FromSeconds(1.5);

    /// <summary><c>/stats</c> reports what it has read within this and says what it could not read.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:01:00")]
    public TimeSpan StatsTimeout { get; set; } = TimeSpan.FromSeconds(1);
}

public static class DatabaseTimeoutRegistration
{
    /// <summary>The request path's bounds on PostgreSQL (section <c>Database</c>) and the bounded writer.</summary>
    public static IHostApplicationBuilder AddDatabaseTimeouts(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<DatabaseTimeoutOptions>()
            .BindConfiguration(DatabaseTimeoutOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<DatabaseWrites>();
        builder.Services.AddSingleton<DatabaseOutageLog>();
        return builder;
    }
}
