using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RecApp.Recommendations.Data;
using RecApp.Recommendations.Model.Embeddings;

namespace RecApp.Recommendations.Model;

/// <summary>Shared shape of the build jobs: read the dataset, build parts, publish them atomically.</summary>
public abstract class BuildJob(DatasetReader reader, ModelStore store, IOptions<RecommendationOptions> options, TimeProvider clock, ILogger logger)
    : IModelJob
{
    public abstract string Name { get; }

    protected RecommendationOptions Options => options.Value;

    protected ILogger Logger => logger;

    protected abstract IReadOnlyList<PartWrite> Build(Dataset dataset, DateTime asOf);

    public async Task<ModelJobResult> RunAsync(CancellationToken cancellationToken)
    {
        var dataset = await reader.ReadAsync(cancellationToken);
        var started = Stopwatch.StartNew();
        // The data's own clock: decay, trending and "recent" are measured from the newest interaction, so imported
        // historical data is modelled as it was on its last day.
        var asOf = ModelTuning.NewestEvent(dataset.Interactions) ?? clock.GetUtcNow().UtcDateTime;
        // CPU-bound and parallel inside; off the caller's thread so a scheduler loop stays responsive.
        var parts = await Task.Run(() => Build(dataset, asOf), cancellationToken);
        var built = started.ElapsedMilliseconds;
        cancellationToken.ThrowIfCancellationRequested();
        var (versions, rows) = await store.PublishAsync(parts, cancellationToken);
        logger.LogInformation("Job {Job}: built in {Built} ms, published {Rows} rows in {Written} ms.",
            Name, built, rows, started.ElapsedMilliseconds - built);
        return new ModelJobResult(rows, versions.Values.Max());
    }
}

/// <summary><c>popular</c>: popularity per demographic segment and trending.</summary>
public sealed class PopularJob(DatasetReader reader, ModelStore store, IOptions<RecommendationOptions> options, TimeProvider clock, ILogger<PopularJob> logger)
    : BuildJob(reader, store, options, clock, logger)
{
    public override string Name => ModelChannels.Popular;

    protected override IReadOnlyList<PartWrite> Build(Dataset dataset, DateTime asOf) =>
    [
        ModelParts.Popularity.Write(PopularityBuilder.BuildPopularity(dataset, Options, asOf)),
        ModelParts.Trending.Write(PopularityBuilder.BuildTrending(dataset, Options, asOf)),
    ];
}

/// <summary><c>profiles</c>: user profiles.</summary>
public sealed class ProfilesJob(DatasetReader reader, ModelStore store, IOptions<RecommendationOptions> options, TimeProvider clock, ILogger<ProfilesJob> logger)
    : BuildJob(reader, store, options, clock, logger)
{
    public override string Name => ModelChannels.Profiles;

    protected override IReadOnlyList<PartWrite> Build(Dataset dataset, DateTime asOf) =>
        [ModelParts.Profiles.Write(UserModelBuilder.BuildProfiles(dataset, Options, asOf))];
}

/// <summary><c>similarities</c>: item neighbors (collaborative and content), user neighbors, item embeddings and what the tuning chose.</summary>
public sealed class SimilaritiesJob(DatasetReader reader, ModelStore store, IOptions<RecommendationOptions> options, TimeProvider clock, ILogger<SimilaritiesJob> logger)
    : BuildJob(reader, store, options, clock, logger)
{
    public override string Name => ModelChannels.Similarities;

    protected override IReadOnlyList<PartWrite> Build(Dataset dataset, DateTime asOf)
    {
        var matrix = InteractionMatrix.Build(dataset, Options, asOf);
        var (itemNeighbors, tuning) = ItemNeighborBuilder.BuildTuned(dataset, matrix, Options, asOf);
        Logger.LogInformation("Similarities: {Model} (EASE λ {Lambda}), decay half-life {HalfLife} days, blend {Blend}; validation nDCG@10 {Chosen} (defaults {Defaults}) on {Users} users, {Tried} settings in {Seconds} s.",
            tuning.ItemModel, tuning.EaseLambda, tuning.DecayHalfLifeDays, tuning.Blend, tuning.ValidationNdcg, tuning.DefaultsValidationNdcg,
            tuning.ValidationUsers, tuning.SettingsTried, tuning.TuningSeconds);
        return
        [
            ModelParts.ItemNeighbors.Write(itemNeighbors),
            ModelParts.UserNeighbors.Write(UserModelBuilder.BuildNeighbors(matrix, Options)),
            ModelParts.ItemEmbeddings.Write(ItemEmbeddingBuilder.Build(dataset, matrix, Options, tuning, asOf)),
            // Last: the newest version of the run, the one job_runs.model_version names (so /stats shows the tuning).
            ModelParts.Tuning.Write(tuning),
        ];
    }
}

/// <summary><c>cleanup</c>: rows of retired and failed versions, old job runs and handled refresh requests.</summary>
public sealed class CleanupJob(ModelStore store, IOptions<RecommendationOptions> options) : IModelJob
{
    public string Name => ModelChannels.Cleanup;

    public async Task<ModelJobResult> RunAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        var rows = await store.CleanupAsync(o.KeepRetiredVersions, o.StaleBuildAfter, o.JobHistoryRetention, cancellationToken);
        return new ModelJobResult(rows, null);
    }
}

public static class ModelServiceCollectionExtensions
{
    /// <summary>
    /// Options from section <c>Recommendations</c>; the seed's environment name <c>MAX_SIMILAR_USERS</c> is accepted too,
    /// through the one table of seed names (<see cref="SeedEnvironmentNames"/>; the .NET key wins when both are set).
    /// Validated at start-up (<see cref="RecommendationOptionsValidator"/>).
    /// </summary>
    public static IServiceCollection AddRecommendationOptions(this IServiceCollection services)
    {
        services.AddOptions<RecommendationOptions>()
            .Configure<IConfiguration>((options, configuration) =>
                SeedEnvironmentNames.WithSeedNames(configuration).GetSection(RecommendationOptions.SectionName).Bind(options))
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RecommendationOptions>, RecommendationOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        return services;
    }

    /// <summary>The four <see cref="IModelJob"/>s (popular, profiles, similarities, cleanup) for the Refresher. Needs an NpgsqlDataSource.</summary>
    public static IServiceCollection AddModelJobs(this IServiceCollection services)
    {
        services.AddRecommendationOptions();
        services.TryAddSingleton<ModelStore>();
        services.TryAddSingleton<DatasetReader>();
        services.AddSingleton<IModelJob, PopularJob>();
        services.AddSingleton<IModelJob, ProfilesJob>();
        services.AddSingleton<IModelJob, SimilaritiesJob>();
        services.AddSingleton<IModelJob, CleanupJob>();
        return services;
    }

    /// <summary>The in-process global model for the API (<see cref="IGlobalModel"/>), loaded at start-up and polled.</summary>
    public static IServiceCollection AddGlobalModel(this IServiceCollection services)
    {
        services.AddRecommendationOptions();
        services.TryAddSingleton<ModelStore>();
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
