namespace RecApp.Api.Catalog;

public static class CatalogRegistration
{
    /// <summary>The live catalog every answer is re-validated against, and what keeps it in sync across instances.</summary>
    public static IHostApplicationBuilder AddCatalog(this IHostApplicationBuilder builder)
    {
        builder.Services.Configure<CatalogOptions>(builder.Configuration.GetSection(CatalogOptions.Section));
        builder.Services.AddSingleton<LiveCatalog>();
        builder.Services.AddSingleton<CatalogSync>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<CatalogSync>());
        return builder;
    }
}
