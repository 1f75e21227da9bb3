using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using RecApp.Api.Admin;

namespace RecApp.Api.Validation;

/// <summary>
/// Completes the generated OpenAPI document: the admin key as a security scheme required by every <c>/admin</c>
/// operation (so the docs UI can send it), and the health endpoints, which are not route handlers and so are not
/// discovered.
/// </summary>
internal sealed class ApiDocumentTransformer : IOpenApiDocumentTransformer
{
    public const string AdminKeyScheme = "AdminKey";

    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes[AdminKeyScheme] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.ApiKey,
            In = ParameterLocation.Header,
            Name = AdminKey.Header,
            Description = "The value of Admin:ApiKey.",
        };
        foreach (var (path, item) in document.Paths)
        {
            if (!path.StartsWith("/admin/", StringComparison.Ordinal) || item.Operations is null)
            {
                continue;
            }
            foreach (var operation in item.Operations.Values)
            {
                operation.Security ??= [];
                operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(AdminKeyScheme, document)] = [] });
            }
        }

        document.Paths["/health"] = HealthPath(
            "Every dependency's status as JSON: 200 when Healthy or Degraded, 503 when Unhealthy.");
        document.Paths["/alive"] = HealthPath("Liveness only: 200 while the process serves requests.");
        return Task.CompletedTask;
    }

    /// <summary>
    /// The body of <c>POST /interactions</c> is read by a converter, which the schema generator cannot see through:
    /// describe it as what it accepts, one event or an array of events.
    /// </summary>
    public static async Task DescribeInteractionBatchAsync(
        OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        if (context.JsonTypeInfo.Type != typeof(Interactions.InteractionBatch))
        {
            return;
        }
        var one = await context.GetOrCreateSchemaAsync(typeof(Interactions.InteractionEvent), null, cancellationToken);
        schema.OneOf = [one, new OpenApiSchema { Type = JsonSchemaType.Array, Items = one, MaxItems = Interactions.InteractionEndpoints.MaxEventsPerRequest }];
    }

    private static OpenApiPathItem HealthPath(string summary) => new()
    {
        Operations = new Dictionary<HttpMethod, OpenApiOperation>
        {
            [HttpMethod.Get] = new()
            {
                Summary = summary,
                Responses = new OpenApiResponses
                {
                    ["200"] = new OpenApiResponse { Description = "Healthy or Degraded." },
                    ["503"] = new OpenApiResponse { Description = "Unhealthy." },
                },
            },
        },
    };
}
