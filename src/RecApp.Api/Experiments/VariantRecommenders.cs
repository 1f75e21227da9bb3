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
    TimeProvider clock)
{
    private readonly ConcurrentDictionary<(string Experiment, string Variant, string Settings), IRecommender> _engines = new();

    public IRecommender For(ExperimentDefinition experiment, ExperimentVariant variant)
    {
        if (variant.Settings.Count == 0)
        {
            return baseline;
        }
        var key = (experiment.Name, variant.Name, string.Join(';', variant.Settings.OrderBy(s => s.Key, StringComparer.Ordinal)));
        return _engines.GetOrAdd(key, _ => new Recommender(dataSource, model, Options.Create(SettingsFor(configuration, variant.Settings)), clock));
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
