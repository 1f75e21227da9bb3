using Microsoft.Extensions.DependencyInjection.Extensions;
using RecApp.Data.Catalog;
using RecApp.Data.Models;
using RecApp.Engine;

namespace RecApp.Api.Model;

public static class GlobalModelRegistration
{
    /// <summary>The in-process global model (<see cref="IGlobalModel"/>), loaded at start-up and polled. Needs an NpgsqlDataSource.</summary>
    public static IServiceCollection AddGlobalModel(this IServiceCollection services)
    {
        services.AddRecommendationOptions();
        services.TryAddSingleton<ModelStore>();
        services.AddCatalogStore();
        if (services.Any(s => s.ServiceType == typeof(IGlobalModel)))
        {
            return services;
        }
        services.AddSingleton<GlobalModelHolder>();
        services.AddSingleton<IGlobalModel>(sp => sp.GetRequiredService<GlobalModelHolder>());
        services.AddHostedService<GlobalModelRefreshService>();
        return services;
    }
}
