using System.Text.Json;

namespace RecApp.Api.Validation;

/// <summary>
/// Everything between the wire and the endpoints: JSON contracts, problem answers for every failure, the body
/// size limit, the per-client rate limiter, and the OpenAPI document with Swagger UI.
/// </summary>
public static class ApiEdgeExtensions
{
    public static IHostApplicationBuilder AddApiEdge(this IHostApplicationBuilder builder)
    {
        builder.Services.ConfigureHttpJsonOptions(json =>
        {
            json.SerializerOptions.TypeInfoResolverChain.Insert(0, ApiJsonContext.Default);
            json.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        });
        builder.Services.AddProblemDetails();
        builder.Services.AddExceptionHandler<ApiExceptionHandler>();
        builder.Services.Configure<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>(
            kestrel => kestrel.Limits.MaxRequestBodySize = JsonBody.MaxBytes);
        builder.Services.AddClientRateLimiting(builder.Configuration);
        builder.Services.AddOpenApi();
        return builder;
    }

    public static WebApplication UseApiEdge(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages(); // framework-made 4xx without a body (405, unmatched routes) become problems too
        // Disabled means no limiter middleware at all, not a no-op limiter consulted on every request.
        if (app.Configuration.GetSection(RateLimitingOptions.Section).Get<RateLimitingOptions>()?.Enabled ?? true)
        {
            app.UseRateLimiter();
        }
        return app;
    }

    /// <summary>The OpenAPI document at <c>/openapi/v1.json</c> and Swagger UI at <c>/swagger</c>.</summary>
    public static WebApplication MapApiDocs(this WebApplication app)
    {
        app.MapOpenApi();
        app.UseSwaggerUI(ui =>
        {
            ui.SwaggerEndpoint("/openapi/v1.json", "RecApp API v1");
            ui.RoutePrefix = "swagger";
        });
        return app;
    }
}
