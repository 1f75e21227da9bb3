using RecApp.Data.Catalog;
namespace RecApp.Api.Catalog;

public static class CatalogRegistration
{
    /// <summary>Item and user writes, and what keeps every instance's catalog in step with item changes made through any instance.</summary>
    public static IHostApplicationBuilder AddCatalog(this IHostApplicationBuilder builder)
    {
        builder.Services.AddCatalogStore();
        builder.Services.AddSingleton<CatalogSync>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<CatalogSync>());
        return builder;
    }
}
