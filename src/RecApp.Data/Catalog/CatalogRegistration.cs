using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using RecApp.Data.Source;

namespace RecApp.Data.Catalog;

public static class CatalogRegistration
{
    /// <summary>
    /// <see cref="CatalogStore"/> (recdb's items and users) and the <see cref="ICatalogReader"/> the serving catalog is
    /// read through: the source database's when one is registered (<c>AddSourceDatabase</c> first), else recdb's.
    /// </summary>
    public static IServiceCollection AddCatalogStore(this IServiceCollection services)
    {
        services.TryAddSingleton<CatalogStore>();
        services.TryAddSingleton<ICatalogReader>(sp => (ICatalogReader?)sp.GetService<SourceDatabase>() ?? sp.GetRequiredService<CatalogStore>());
        return services;
    }
}
