using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace RecApp.Data.Catalog;

public static class CatalogRegistration
{
    /// <summary>
    /// <see cref="CatalogStore"/> (recdb's items and users) and the <see cref="ICatalogReader"/> the serving catalog is
    /// read through: recdb's, unless the shop's database is registered (<c>AddSourceDatabase</c>, which replaces it).
    /// </summary>
    public static IServiceCollection AddCatalogStore(this IServiceCollection services)
    {
        services.TryAddSingleton<CatalogStore>();
        services.TryAddSingleton<ICatalogReader>(sp => sp.GetRequiredService<CatalogStore>());
        return services;
    }
}
