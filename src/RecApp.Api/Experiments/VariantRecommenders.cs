using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using RecApp.Engine;
using RecApp.Engine.Model;
using RecApp.Engine.Embeddings;
using RecApp.Data;
using RecApp.Data.Models;
using RecApp.Api.Model;
using RecApp.Engine.Domain;
using RecApp.Engine.Scoring;
using RecApp.Api.Recommendations;

using RecApp.Data.Users;
using RecApp.Data.Experiments;

namespace RecApp.Api.Experiments;

/// <summary>
/// One engine per experiment variant: the application's <c>Recommendations</c> settings with the variant's changes
/// bound on top. The control (no changes) shares the application's own engine.
/// </summary>
public sealed class VariantRecommenders(
    IConfiguration configuration,
    IRecommender baseline,
    UserReader users,
    TimeProvider clock,
    IUserReadGuard readGuard)
{
    private readonly ConcurrentDictionary<(string Experiment, string Variant, string Settings), IRecommender> _engines = new();

    public IRecommender For(ExperimentDefinition experiment, ExperimentVariant variant)
    {
        if (variant.Settings.Count == 0)
        {
            return baseline;
        }
        var key = (experiment.Name, variant.Name, string.Join(';', variant.Settings.OrderBy(s => s.Key, StringComparer.Ordinal)));
        return _engines.GetOrAdd(key, _ =>
        {
            var (settings, changed) = SettingsFor(configuration, variant.Settings);
            return new VariantRecommender(new Recommender(users, Options.Create(settings), clock, readGuard), settings, changed);
        });
    }

    /// <summary>
    /// The base settings with <paramref name="changes"/> applied, and the paths of the settings they name (a change may
    /// name a setting by its path, <c>Scoring:ItemKnnShare</c>, or by its last part). Throws
    /// <see cref="InvalidOperationException"/> naming a change that is not one of
    /// <see cref="RecommendationOptions.ScoringTimeSettings"/> or whose value does not bind.
    /// </summary>
    public static (RecommendationOptions Settings, string[] Changed) SettingsFor(IConfiguration configuration, IReadOnlyDictionary<string, string> changes)
    {
        var settings = configuration.GetSection(RecommendationOptions.SectionName).Get<RecommendationOptions>() ?? new RecommendationOptions();
        var paths = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in changes)
        {
            var path = RecommendationOptions.FindScoringTimeSetting(name) ?? throw new InvalidOperationException(
                $"'{name}' is not a setting a variant can change; these are read per request: {string.Join(", ", RecommendationOptions.ScoringTimeSettings)}.");
            paths[path] = value;
        }
        new ConfigurationBuilder().AddInMemoryCollection(paths).Build().Bind(settings, o => o.ErrorOnUnknownConfiguration = true);
        if (RecommendationOptionsValidator.Failures(settings).FirstOrDefault() is { } failure)
        {
            throw new InvalidOperationException(failure);
        }
        return (settings, [.. paths.Keys]);
    }
}

/// <summary>
/// A variant's engine. A build tunes the blend and the decay on its validation split and the engine prefers those to
/// the configured ones; a variant changes exactly the settings it names on top of that: its snapshot carries the
/// tuned blend with only the named weights replaced, and the configured decay only when the variant sets it.
/// </summary>
internal sealed class VariantRecommender(IRecommender inner, RecommendationOptions settings, IReadOnlyCollection<string> names) : IRecommender
{
    private ModelSnapshot Adjust(ModelSnapshot snapshot)
    {
        var tuning = snapshot.Tuning.WithSettings(settings, names);
        return ReferenceEquals(tuning, snapshot.Tuning) ? snapshot : snapshot with { Tuning = tuning };
    }




    public Task<IReadOnlyDictionary<long, SourceContribution[]>> ExplainSourcesAsync(ModelSnapshot snapshot, long userId, CancellationToken cancellationToken) =>
        inner.ExplainSourcesAsync(Adjust(snapshot), userId, cancellationToken);

    public Task<RankedList> ForUserAsync(ModelSnapshot snapshot, long userId, RecommendationFilters filters, CancellationToken cancellationToken) =>
        inner.ForUserAsync(Adjust(snapshot), userId, filters, cancellationToken);

    public Task<RankedList> PopularAsync(ModelSnapshot snapshot, Demographics demographics, RecommendationFilters filters, CancellationToken cancellationToken) =>
        inner.PopularAsync(snapshot, demographics, filters, cancellationToken);

    public Task<RankedList?> SimilarAsync(ModelSnapshot snapshot, long itemId, CancellationToken cancellationToken) =>
        inner.SimilarAsync(snapshot, itemId, cancellationToken);
}
