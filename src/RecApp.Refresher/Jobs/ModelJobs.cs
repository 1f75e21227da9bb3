using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using RecApp.Engine;
using RecApp.Engine.Domain;
using RecApp.Engine.Model;
using RecApp.Engine.Training;
using RecApp.Data;
using RecApp.Data.Models;
using RecApp.Data.Jobs;

namespace RecApp.Refresher.Jobs;

/// <summary>
/// Shared shape of the build jobs: read the dataset and build the parts in a build turn, then publish them atomically in
/// a publish turn (<see cref="BuildGate"/>), while the next job builds.
/// </summary>
public abstract class BuildJob(DatasetReader reader, ModelStore store, BuildGate gate, IOptions<RecommendationOptions> options, TimeProvider clock, ILogger logger)
    : IModelJob
{
    public abstract string Name { get; }

    protected RecommendationOptions Options => options.Value;

    protected ILogger Logger => logger;

    protected TimeProvider Clock => clock;

    protected abstract IReadOnlyList<PartWrite> Build(Dataset dataset, DateTime asOf);

    public async Task<ModelJobResult> RunAsync(CancellationToken cancellationToken)
    {
        IReadOnlyList<PartWrite> parts;
        Task<IDisposable> publishTurn;
        var started = Stopwatch.StartNew();
        long built;
        using (await gate.EnterBuildAsync(cancellationToken))
        {
            using (var lease = await reader.ReadAsync(cancellationToken))
            {
                started.Restart(); // the build's own time, without the wait for its turn or the read
                parts = await BuildAsync(lease.Dataset, cancellationToken);
                built = started.ElapsedMilliseconds;
            }
            publishTurn = gate.EnterPublishAsync(cancellationToken); // queued before the next job may build
        }
        using (await publishTurn)
        {
            cancellationToken.ThrowIfCancellationRequested();
            started.Restart();
            var (versions, rows) = await store.PublishAsync(parts, cancellationToken);
            logger.LogInformation("Job {Job}: built in {Built} ms, published {Rows} rows in {Written} ms.",
                Name, built, rows, started.ElapsedMilliseconds);
            return new ModelJobResult(rows, versions.Values.Max());
        }
    }

    private Task<IReadOnlyList<PartWrite>> BuildAsync(Dataset dataset, CancellationToken cancellationToken)
    {
        // The data's own clock: decay, trending and "recent" are measured from the newest interaction, so imported
        // historical data is modelled as it was on its last day.
        var asOf = ModelTuning.NewestEvent(dataset.Interactions) ?? clock.GetUtcNow().UtcDateTime;
        // CPU-bound and parallel inside; off the caller's thread so a scheduler loop stays responsive.
        return Task.Run(() => Build(dataset, asOf), cancellationToken);
    }
}

/// <summary><c>popular</c>: popularity per demographic segment and trending.</summary>
public sealed class PopularJob(DatasetReader reader, ModelStore store, BuildGate gate, IOptions<RecommendationOptions> options, TimeProvider clock, ILogger<PopularJob> logger)
    : BuildJob(reader, store, gate, options, clock, logger)
{
    public override string Name => JobNames.Popular;

    protected override IReadOnlyList<PartWrite> Build(Dataset dataset, DateTime asOf) =>
    [
        ModelParts.Popularity.Write(PopularityBuilder.BuildPopularity(dataset, Options, asOf)),
        ModelParts.Trending.Write(PopularityBuilder.BuildTrending(dataset, Options, asOf)),
    ];
}

/// <summary><c>profiles</c>: user profiles.</summary>
public sealed class ProfilesJob(DatasetReader reader, ModelStore store, BuildGate gate, IOptions<RecommendationOptions> options, TimeProvider clock, ILogger<ProfilesJob> logger)
    : BuildJob(reader, store, gate, options, clock, logger)
{
    public override string Name => JobNames.Profiles;

    protected override IReadOnlyList<PartWrite> Build(Dataset dataset, DateTime asOf) =>
        [ModelParts.Profiles.Write(UserModelBuilder.BuildProfiles(dataset, Options, asOf))];
}

/// <summary><c>similarities</c>: item neighbors (collaborative and content), user neighbors, item embeddings and what the tuning chose.</summary>
public sealed class SimilaritiesJob(DatasetReader reader, ModelStore store, BuildGate gate, IOptions<RecommendationOptions> options, TimeProvider clock, ILogger<SimilaritiesJob> logger)
    : BuildJob(reader, store, gate, options, clock, logger)
{
    // The last search's choices and when it ran (TimeProvider timestamp), and the last build's embedding vectors (which
    // a build keeping those choices starts from); builds run one at a time.
    private (TunedChoices Choices, long SearchedAt)? _lastSearch;
    private EmbeddingFactors? _lastFactors;

    public override string Name => JobNames.Similarities;

    protected override IReadOnlyList<PartWrite> Build(Dataset dataset, DateTime asOf)
    {
        var kept = _lastSearch is var (choices, searchedAt)
            && choices.Fits(dataset.Interactions.Length, Clock.GetElapsedTime(searchedAt), Options.Tuning)
                ? choices
                : null;
        // Taken out of the field for the build: the old vectors can be collected once the fit has started from them (or at
        // once, for a search), and a build that fails starts the next one cold.
        var previous = kept is null ? null : _lastFactors;
        _lastFactors = null;
        var parts = GlobalModelBuilder.BuildSimilarities(dataset, Options, asOf, kept, previous);
        if (kept is null)
        {
            _lastSearch = (parts.Choices, Clock.GetTimestamp());
        }
        _lastFactors = parts.Factors;
        var tuning = parts.Tuning;
        Logger.LogInformation("Similarities: {Model} (EASE λ {Lambda}), decay half-life {HalfLife} days, blend {Blend}; validation nDCG@10 {Chosen} (defaults {Defaults}) on {Users} users, {Tried} settings in {Seconds} s by the build of data clock {TunedDataClock}{Kept}; for the data's size: {ScaleChoices}.",
            tuning.ItemModel, tuning.EaseLambda, tuning.DecayHalfLifeDays, tuning.Blend, tuning.ValidationNdcg, tuning.DefaultsValidationNdcg,
            tuning.ValidationUsers, tuning.SettingsTried, tuning.TuningSeconds, tuning.TunedDataClock,
            kept is null ? "" : tuning.EmbeddingsWarmStarted ? " (kept: Tuning:KeepFor; embeddings from the last build's vectors)" : " (kept: Tuning:KeepFor)",
            tuning.ScaleChoices ?? "nothing");
        return
        [
            ModelParts.ItemNeighbors.Write(parts.ItemNeighbors),
            ModelParts.UserNeighbors.Write(parts.UserNeighbors),
            ModelParts.ItemEmbeddings.Write(parts.Embeddings),
            // Last: the newest version of the run, the one job_runs.model_version names (so /stats shows the tuning).
            ModelParts.Tuning.Write(tuning),
        ];
    }
}

/// <summary><c>cleanup</c>: rows of retired and failed versions, old job runs and handled refresh requests.</summary>
public sealed class CleanupJob(ModelStore store, IOptions<RecommendationOptions> options) : IModelJob
{
    public string Name => JobNames.Cleanup;

    public async Task<ModelJobResult> RunAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        var rows = await store.CleanupAsync(o.Store.KeepRetiredVersions, o.Store.StaleBuildAfter, o.Store.JobHistoryRetention, cancellationToken);
        return new ModelJobResult(rows, null);
    }
}

public static class ModelServiceCollectionExtensions
{
    /// <summary>The four <see cref="IModelJob"/>s (popular, profiles, similarities, cleanup) for the Refresher. Needs an NpgsqlDataSource.</summary>
    public static IServiceCollection AddModelJobs(this IServiceCollection services)
    {
        services.AddRecommendationOptions();
        services.TryAddSingleton<ModelStore>();
        services.TryAddSingleton<DatasetReader>();
        services.TryAddSingleton<BuildGate>();
        services.AddSingleton<IModelJob, PopularJob>();
        services.AddSingleton<IModelJob, ProfilesJob>();
        services.AddSingleton<IModelJob, SimilaritiesJob>();
        services.AddSingleton<IModelJob, CleanupJob>();
        return services;
    }
}
