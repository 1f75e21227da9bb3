using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Npgsql;
using RecApp.Recommendations.Model;
using RecApp.Recommendations.Scoring;

namespace RecApp.Api.Experiments;

/// <summary>
/// One engine per experiment variant: the application's <c>Recommendations</c> settings with the variant's changes
/// bound on top. The control (no changes) shares the application's own engine.
/// </summary>
public sealed class VariantRecommenders(
    IConfiguration configuration,
    IRecommender baseline,
    NpgsqlDataSource dataSource,
    IGlobalModel model,
    TimeProvider clock,
    IUserReadGuard readGuard,
    RecApp.Recommendations.Data.SourceDatabase? source = null)
{
    private readonly ConcurrentDictionary<(string Experiment, string Variant, string Settings), IRecommender> _engines = new();

    public IRecommender For(ExperimentDefinition experiment, ExperimentVariant variant)
    {
        if (variant.Settings.Count == 0)
        {
            return baseline;
        }
        var key = (experiment.Name, variant.Name, string.Join(';', variant.Settings.OrderBy(s => s.Key, StringComparer.Ordinal)));
        return _engines.GetOrAdd(key, _ => new VariantRecommender(
            new Recommender(dataSource, model, Options.Create(SettingsFor(configuration, variant.Settings)), clock, source, readGuard),
            variant.Settings.Keys));
    }

    /// <summary>The base settings with <paramref name="changes"/> applied; throws <see cref="InvalidOperationException"/> naming a bad one.</summary>
    public static RecommendationOptions SettingsFor(IConfiguration configuration, IReadOnlyDictionary<string, string> changes)
    {
        var settings = configuration.GetSection(RecommendationOptions.SectionName).Get<RecommendationOptions>() ?? new RecommendationOptions();
        var known = typeof(RecommendationOptions).GetProperties()
            .Where(p => p.CanWrite)
            .Select(p => p.Name)
            .ToHashSet(StringComparer.OrdinalIgnoreCase);
        foreach (var name in changes.Keys)
        {
            if (!known.Contains(name))
            {
                throw new InvalidOperationException($"'{name}' is not a Recommendations setting.");
            }
        }
        new ConfigurationBuilder().AddInMemoryCollection(changes!).Build().Bind(settings, o => o.ErrorOnUnknownConfiguration = true);
        return settings;
    }
}

/// <summary>
/// A variant's engine. A build tunes the blend and the decay on its validation split and the engine prefers those to
/// the configured ones; a variant that sets them explicitly must win, so its snapshot forgets the tuned values it
/// overrides (a shallow copy per call).
/// </summary>
internal sealed class VariantRecommender(IRecommender inner, IEnumerable<string> settings) : IRecommender
{
    private static readonly HashSet<string> s_blendSettings = new(StringComparer.OrdinalIgnoreCase)
    {
        nameof(RecommendationOptions.CollaborativeWeight), nameof(RecommendationOptions.ContentWeight),
        nameof(RecommendationOptions.PopularityWeight), nameof(RecommendationOptions.ItemKnnShare),
    };

    private readonly bool _overridesBlend = settings.Any(s_blendSettings.Contains);
    private readonly bool _overridesDecay = settings.Contains(nameof(RecommendationOptions.DecayHalfLifeDays), StringComparer.OrdinalIgnoreCase);

    private ModelSnapshot Adjust(ModelSnapshot snapshot) => !_overridesBlend && !_overridesDecay ? snapshot : snapshot with
    {
        Tuning = snapshot.Tuning with
        {
            Blend = _overridesBlend ? null : snapshot.Tuning.Blend,
            DecayHalfLifeDays = _overridesDecay ? null : snapshot.Tuning.DecayHalfLifeDays,
        },
    };

    public Task<RankedList> ForUserAsync(long userId, RecommendationFilters filters, CancellationToken cancellationToken) =>
        inner.ForUserAsync(userId, filters, cancellationToken);

    public Task<RankedList> PopularAsync(Demographics demographics, RecommendationFilters filters, CancellationToken cancellationToken) =>
        inner.PopularAsync(demographics, filters, cancellationToken);

    public Task<RankedList?> SimilarAsync(long itemId, CancellationToken cancellationToken) => inner.SimilarAsync(itemId, cancellationToken);

    public Task<IReadOnlyDictionary<long, SourceContribution[]>> ExplainSourcesAsync(ModelSnapshot snapshot, long userId, CancellationToken cancellationToken) =>
        inner.ExplainSourcesAsync(Adjust(snapshot), userId, cancellationToken);

    public Task<RankedList> ForUserAsync(ModelSnapshot snapshot, long userId, RecommendationFilters filters, CancellationToken cancellationToken) =>
        inner.ForUserAsync(Adjust(snapshot), userId, filters, cancellationToken);

    public Task<RankedList> PopularAsync(ModelSnapshot snapshot, Demographics demographics, RecommendationFilters filters, CancellationToken cancellationToken) =>
        inner.PopularAsync(snapshot, demographics, filters, cancellationToken);

    public Task<RankedList?> SimilarAsync(ModelSnapshot snapshot, long itemId, CancellationToken cancellationToken) =>
        inner.SimilarAsync(snapshot, itemId, cancellationToken);
}
