using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace RecApp.ServiceDefaults;

/// <summary>
/// What every RecApp service gets, shaped like the Aspire service-defaults template: OpenTelemetry (exported over
/// OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set, as Aspire sets it for its dashboard), health checks, service
/// discovery and a standard resilience handler on every HttpClient.
/// </summary>
public static class ServiceDefaultsExtensions
{
    /// <summary>Tag for checks whose failure degrades the service instead of taking it down.</summary>
    public const string DegradableTag = "degradable";

    /// <summary>Tag for checks that say whether the service can answer (dependencies), as opposed to liveness.</summary>
    public const string ReadyTag = "ready";

    private const string HealthEndpointPath = "/health";
    private const string AlivenessEndpointPath = "/alive";
    private const string LiveTag = "live";

    /// <summary>RecApp's own sources and meters (<c>RecApp.Api</c>, <c>RecApp.Refresher</c>, ...) and the cache's.</summary>
    private static readonly string[] s_sources = ["RecApp.*", "ZiggyCreatures.Caching.Fusion"];
    private static readonly string[] s_meters = ["RecApp.*", "ZiggyCreatures.Caching.Fusion*"];

    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        // The service contract's environment names (CACHE_TTL_*, RECOMMENDATIONS_*_URL, ...) mapped onto the .NET keys,
        // below every other source: registered here, once, for every service and tool.
        builder.Configuration.AddContractEnvironmentNames();
        builder.Services.TryAddSingleton(TimeProvider.System); // one clock for every timer, replaceable in tests
        builder.ConfigureOpenTelemetry();
        builder.AddDefaultHealthChecks();
        builder.Services.AddOptions<MemoryOptions>().BindConfiguration(MemoryOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddHostedService<IdleHeapTrim>();
        builder.Services.AddServiceDiscovery();
        builder.Services.ConfigureHttpClientDefaults(http =>
        {
            http.AddStandardResilienceHandler();
            http.AddServiceDiscovery();
        });
        return builder;
    }

    public static TBuilder ConfigureOpenTelemetry<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });

        builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddMeter(s_meters))
            .WithTracing(tracing => tracing
                .AddSource(s_sources)
                .AddAspNetCoreInstrumentation(aspNetCore =>
                    // Probes every few seconds would drown the requests worth looking at.
                    aspNetCore.Filter = context =>
                        !context.Request.Path.StartsWithSegments(HealthEndpointPath)
                        && !context.Request.Path.StartsWithSegments(AlivenessEndpointPath))
                .AddHttpClientInstrumentation());

        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            builder.Services.AddOpenTelemetry().UseOtlpExporter();
        }
        else
        {
            // Nobody reads spans without an exporter: sample none, so no request allocates them (about 3 KB per
            // cache hit, bench/RecApp.Benchmarks RankedListCacheHit).
            builder.Services.AddOpenTelemetry().WithTracing(tracing => tracing.SetSampler(new AlwaysOffSampler()));
        }
        return builder;
    }

    public static TBuilder AddDefaultHealthChecks<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddOptions<DependencyHealthOptions>()
            .BindConfiguration(DependencyHealthOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy(), [LiveTag]);
        return builder;
    }

    /// <summary>
    /// <c>/health</c> runs every check and answers JSON with each dependency's status; <c>/alive</c> runs only the
    /// liveness check. A failing check tagged <see cref="DegradableTag"/> makes the service Degraded (still 200).
    /// Mapped in every environment: load balancers and the AppHost probe them.
    /// </summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        app.MapHealthChecks(HealthEndpointPath, new HealthCheckOptions { ResponseWriter = WriteHealthReport })
            .DisableHttpMetrics();
        app.MapHealthChecks(AlivenessEndpointPath, new HealthCheckOptions { Predicate = r => r.Tags.Contains(LiveTag) })
            .DisableHttpMetrics();
        return app;
    }

    /// <summary>The service's own status: the worst critical entry; a failed degradable entry counts as Degraded.</summary>
    public static HealthStatus OverallStatus(HealthReport report)
    {
        var overall = HealthStatus.Healthy;
        foreach (var entry in report.Entries.Values)
        {
            var status = entry.Status == HealthStatus.Unhealthy && entry.Tags.Contains(DegradableTag)
                ? HealthStatus.Degraded
                : entry.Status;
            if (status < overall)
            {
                overall = status;
            }
        }
        return overall;
    }

    private static async Task WriteHealthReport(HttpContext context, HealthReport report)
    {
        var overall = OverallStatus(report);
        context.Response.StatusCode = overall == HealthStatus.Unhealthy
            ? StatusCodes.Status503ServiceUnavailable
            : StatusCodes.Status200OK;
        context.Response.ContentType = "application/json; charset=utf-8";

        await using var json = new Utf8JsonWriter(context.Response.Body, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        json.WriteString("status", overall.ToString());
        json.WriteNumber("duration_ms", Math.Round(report.TotalDuration.TotalMilliseconds, 2));
        json.WriteStartObject("entries");
        foreach (var (name, entry) in report.Entries)
        {
            json.WriteStartObject(name);
            json.WriteString("status", entry.Status.ToString());
            json.WriteNumber("duration_ms", Math.Round(entry.Duration.TotalMilliseconds, 2));
            if (entry.Description is not null)
            {
                json.WriteString("description", entry.Description);
            }
            if (entry.Exception is not null)
            {
                json.WriteString("error", entry.Exception.Message);
            }
            json.WriteEndObject();
        }
        json.WriteEndObject();
        json.WriteEndObject();
    }
}
