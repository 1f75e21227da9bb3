using Microsoft.Extensions.Caching.Hybrid;
using RecApp.ServiceDefaults;
using RecApp.Engine.Domain;

namespace RecApp.Api.Recommendations;

public static class RecommendationRegistration
{
    /// <summary>
    /// The engine (<see cref="IRecommender"/> over the in-process global model), the serving options, the cached
    /// ranked lists, and the model-version feed with the warm-up it triggers. Needs a <see cref="HybridCache"/>.
    /// </summary>
    public static IHostApplicationBuilder AddRecommendations(this IHostApplicationBuilder builder)
    {
        builder.Services.AddRecommender();
        builder.Services.AddOptions<ApiOptions>().BindConfiguration(ApiOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<RecommendationMetrics>();
        builder.Services.AddSingleton<IHybridCacheSerializer<RankedList>, RankedListSerializer>();
        builder.Services.AddOptions<DatabaseBreakerOptions>()
            .BindConfiguration(DatabaseBreakerOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<DatabaseBreaker>();
        builder.Services.AddSingleton<IUserReadGuard>(services => services.GetRequiredService<DatabaseBreaker>()); // the engine's history read
        builder.Services.AddSingleton<RankedListCache>();
        builder.Services.AddSingleton<PageBodies>();
        builder.Services.AddSingleton<CacheWarmer>();
        builder.Services.AddHostedService<ModelVersionFeed>();
        builder.Services.AddHealthChecks().AddCheck<ModelHealthCheck>("model", tags: [ServiceDefaultsExtensions.ReadyTag]);
        return builder;
    }
}
