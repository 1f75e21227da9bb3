using RecApp.Data.Experiments;

namespace RecApp.Api.Experiments;

public static class ExperimentRegistration
{
    /// <summary>Experiments: the store, the running ones per surface with their engines, and exposure recording.</summary>
    public static IHostApplicationBuilder AddExperiments(this IHostApplicationBuilder builder)
    {
        builder.Services.ConfigureHttpJsonOptions(json =>
            json.SerializerOptions.TypeInfoResolverChain.Add(ExperimentJsonContext.Default));
        builder.Services.AddSingleton<ExperimentStore>();
        builder.Services.AddSingleton<VariantRecommenders>();
        builder.Services.AddSingleton<ExperimentCatalog>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ExperimentCatalog>());
        builder.Services.AddSingleton<ExposureRecorder>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ExposureRecorder>());
        return builder;
    }
}
