using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.FileProviders;
using Microsoft.Net.Http.Headers;

namespace RecApp.Api.Console;

/// <summary>
/// The operator console: a static page at <c>/console</c> (HTML, JS and CSS embedded in this assembly, so it is there
/// wherever the API runs) and its admin endpoints under <c>/admin/console</c>. The page holds no secret: it asks for
/// the admin key and sends it as <c>X-Admin-Key</c> on each call.
/// </summary>
public static class ConsoleRegistration
{
    public const string Path = "/console";

    // Only this origin's own files: no inline script, no CDN, no framing.
    private const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    public static IHostApplicationBuilder AddConsole(this IHostApplicationBuilder builder)
    {
        builder.Services.ConfigureHttpJsonOptions(json =>
            json.SerializerOptions.TypeInfoResolverChain.Add(ConsoleJsonContext.Default));
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<CacheHistory>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<CacheHistory>());
        return builder;
    }

    public static WebApplication MapConsole(this WebApplication app)
    {
        var files = new EmbeddedFileProvider(typeof(ConsoleRegistration).Assembly, "RecApp.Api.Console.Assets");
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files, RequestPath = Path });
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = files,
            RequestPath = Path,
            OnPrepareResponse = context =>
            {
                var headers = context.Context.Response.Headers;
                headers[HeaderNames.ContentSecurityPolicy] = ContentSecurityPolicy;
                headers[HeaderNames.XContentTypeOptions] = "nosniff";
                headers["Referrer-Policy"] = "no-referrer";
                headers[HeaderNames.CacheControl] = "no-cache"; // a new deployment's page is picked up at once
            },
        });
        app.MapConsoleApi();
        return app;
    }
}
