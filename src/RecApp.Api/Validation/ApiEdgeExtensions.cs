using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;

namespace RecApp.Api.Validation;

/// <summary>
/// Everything between the wire and the endpoints: JSON contracts, the framework's binding and validation, problem
/// answers for every failure, the body size limit, the per-client rate limiter, and the OpenAPI document with
/// Swagger UI.
/// </summary>
public static class ApiEdgeExtensions
{
    /// <summary>Largest accepted request body (1 MiB), enforced by Kestrel on the wire.</summary>
    public const long MaxBodyBytes = 1024 * 1024;

    public static IHostApplicationBuilder AddApiEdge(this IHostApplicationBuilder builder)
    {
        builder.Services.ConfigureHttpJsonOptions(json => UseApiContracts(json.SerializerOptions));
        // Binding failures (bad JSON, wrong types, trailing data, a route value that is not a number) are thrown to
        // ApiExceptionHandler, which names the field; by default the framework answers an empty 400 instead.
        builder.Services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
        builder.Services.AddValidation();
        builder.Services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
        {
            if (context.ProblemDetails is HttpValidationProblemDetails validation)
            {
                WireFieldNames.Apply(validation);
            }
            // The framework fills `type` only for the statuses it knows (400, 404, 500, ...): every problem has one.
            context.ProblemDetails.Type ??= ProblemTypes.For(context.ProblemDetails.Status ?? context.HttpContext.Response.StatusCode);
        });
        builder.Services.AddExceptionHandler<ApiExceptionHandler>();
        builder.Services.Configure<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>(
            kestrel => kestrel.Limits.MaxRequestBodySize = MaxBodyBytes);
        builder.Services.AddClientRateLimiting();
        builder.Services.AddOpenApi(options =>
        {
            options.AddDocumentTransformer<ApiDocumentTransformer>();
            options.AddSchemaTransformer(ApiDocumentTransformer.DescribeInteractionBatchAsync);
        });
        return builder;
    }

    /// <summary>The source-generated contracts, snake_case, numbers as JSON numbers only.</summary>
    internal static void UseApiContracts(System.Text.Json.JsonSerializerOptions options)
    {
        options.TypeInfoResolverChain.Insert(0, ApiJsonContext.Default);
        // Used as a resolver, the context follows these options, so they take its naming (declared there only).
        options.PropertyNamingPolicy = ApiJsonContext.Default.Options.PropertyNamingPolicy;
        // The web defaults also read numbers from strings ("7"), which the OpenAPI document then types as
        // ["integer","string"]; the contract is plain numbers.
        options.NumberHandling = JsonNumberHandling.Strict;
    }

    public static WebApplication UseApiEdge(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages(); // framework-made 4xx without a body (405, unmatched routes) become problems too
        // Before the limiter and the endpoints: an admin route without the right key is answered here, before its
        // body is bound or validated (Admin/AdminKeyAuthentication).
        app.UseAuthentication();
        app.UseAuthorization();
        // Disabled means no limiter middleware at all, not a no-op limiter consulted on every request.
        if (app.Services.GetRequiredService<IOptions<RateLimitingOptions>>().Value.Enabled)
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
