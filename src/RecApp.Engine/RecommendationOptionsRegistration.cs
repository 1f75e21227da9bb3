using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace RecApp.Engine;

public static class RecommendationOptionsRegistration
{
    /// <summary>
    /// <see cref="RecommendationOptions"/> bound from section <c>Recommendations</c> and validated at start-up
    /// (<see cref="RecommendationOptionsValidator"/>): what the API and the Refresher (builds and evaluation) both use.
    /// </summary>
    public static IServiceCollection AddRecommendationOptions(this IServiceCollection services)
    {
        services.AddOptions<RecommendationOptions>()
            .BindConfiguration(RecommendationOptions.SectionName)
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RecommendationOptions>, RecommendationOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        return services;
    }
}
