using System.Collections.Concurrent;
using RecApp.Engine.Domain;

namespace RecApp.Engine.Training;

/// <summary>
/// One build's interaction matrices by decay half-life, each built once: the configured decay's, and those the popular
/// lists (their own half-life), the tuner's decay candidates and the embedding source (the chosen decay) ask for. At S
/// the popular lists' half-life (none) is also the decay the tuning chooses, so what were three builds of one matrix is
/// one. A matrix differs from the configured one only in its cell weights (<see cref="RecommendationOptions.WithDecay"/>).
/// Safe to ask from several threads.
/// </summary>
internal sealed class DecayedMatrices(Dataset dataset, RecommendationOptions options, DateTime asOf)
{
    private readonly ConcurrentDictionary<double, Lazy<InteractionMatrix>> _byHalfLife = new();

    /// <summary>The matrix weighted with the configured decay.</summary>
    public InteractionMatrix Configured => WithHalfLife(options.History.DecayHalfLifeDays);

    /// <summary>The matrix weighted with <c>options.WithDecay(halfLifeDays)</c>.</summary>
    public InteractionMatrix WithHalfLife(double halfLifeDays) =>
        _byHalfLife.GetOrAdd(halfLifeDays, h => new Lazy<InteractionMatrix>(() => InteractionMatrix.Build(dataset, options.WithDecay(h), asOf))).Value;
}
