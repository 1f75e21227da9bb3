using Microsoft.Extensions.Options;

namespace RecApp.Api.Recommendations;

public static class RecommendationRegistration
{
    /// <summary>Serving options, the cached ranked lists, the model-version feed and the warm-up it triggers.</summary>
    public static IHostApplicationBuilder AddRecommendations(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ApiOptions>().Bind(builder.Configuration.GetSection(ApiOptions.Section)).ValidateOnStart();
        builder.Services.AddSingleton<IConfigureOptions<ApiOptions>, SeedEnvironmentNames>();
        builder.Services.AddSingleton<IValidateOptions<ApiOptions>, ApiOptionsValidation>();
        builder.Services.AddSingleton<ModelVersionTracker>();
        builder.Services.AddSingleton<RecommendationCounters>();
        builder.Services.AddSingleton<RankedListCache>();
        builder.Services.AddSingleton<CacheWarmer>();
        builder.Services.AddHostedService<ModelVersionFeed>();
        return builder;
    }
}
