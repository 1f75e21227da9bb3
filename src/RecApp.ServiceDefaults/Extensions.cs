using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// What every RecApp service gets: telemetry, health checks and their endpoints.
/// Shaped like the Aspire service-defaults template, built only on packages that restore offline.
/// </summary>
public static class ServiceDefaultsExtensions
{
    /// <summary>Tag for checks whose failure degrades the service instead of taking it down.</summary>
    public const string DegradableTag = "degradable";

    private const string HealthEndpointPath = "/health";
    private const string AlivenessEndpointPath = "/alive";
    private const string LiveTag = "live";

    /// <summary>Activity sources and meters RecApp exports, besides the ones each service adds.</summary>
    private static readonly string[] s_sources = ["Microsoft.AspNetCore", "System.Net.Http", "Npgsql", "RecApp.*"];
    private static readonly string[] s_meters =
    [
        "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "System.Net.Http",
        "System.Runtime", "Npgsql", "RecApp.*",
    ];

    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.ConfigureOpenTelemetry();
        builder.AddDefaultHealthChecks();
        return builder;
    }

    /// <summary>
    /// Traces, metrics and logs go out over OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set (Aspire sets it
    /// for its dashboard). Without an endpoint no SDK is built, so nothing pays for spans nobody reads.
    /// </summary>
    public static TBuilder ConfigureOpenTelemetry<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        if (string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            return builder;
        }

        var serviceName = builder.Configuration["OTEL_SERVICE_NAME"] ?? builder.Environment.ApplicationName;
        void ConfigureResource(ResourceBuilder resource) => resource.AddService(serviceName);

        var sdk = OpenTelemetrySdk.Create(otel => otel
            .ConfigureResource(ConfigureResource)
            .WithTracing(tracing => tracing.AddSource(s_sources))
            .WithMetrics(metrics => metrics.AddMeter(s_meters))
            .UseOtlpExporter());
        builder.Services.AddSingleton(sdk); // the container disposes it at shutdown, flushing what is buffered

        builder.Logging.AddOpenTelemetry(logging =>
        {
            var resource = ResourceBuilder.CreateDefault();
            ConfigureResource(resource);
            logging.SetResourceBuilder(resource);
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
            logging.AddOtlpExporter();
        });
        return builder;
    }

    public static TBuilder AddDefaultHealthChecks<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy(), [LiveTag]);
        return builder;
    }

    /// <summary>
    /// <c>/health</c> runs every check and answers JSON with each dependency's status; <c>/alive</c> runs only the
    /// liveness check. A failing check tagged <see cref="DegradableTag"/> makes the service Degraded (still 200).
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
