namespace RecApp.Api.Catalog;

public static class CatalogRegistration
{
    /// <summary>What keeps every instance's catalog in step with item changes made through any instance.</summary>
    public static IHostApplicationBuilder AddCatalog(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<CatalogSync>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<CatalogSync>());
        return builder;
    }
}
