using RecApp.Engine.Model;

namespace RecApp.Engine.Training;

/// <summary>
/// What a similarities build's search chose (<see cref="ModelTuning"/>) and on how much data, kept so that later builds
/// fit their parts with the same choices instead of searching again (<see cref="TuningOptions.KeepFor"/>). The search is
/// a hyperparameter search: its choices move with the data's shape, not with each hour's new interactions.
/// </summary>
/// <param name="EaseTooLarge">The search wanted EASE but it did not fit the data: the tuning record says so on every build that keeps it.</param>
/// <param name="Interactions">Interactions the search saw.</param>
public sealed record TunedChoices(ModelTuning Tuning, bool EaseTooLarge, int Interactions)
{
    /// <summary>
    /// Whether a build on <paramref name="interactions"/> interactions, <paramref name="age"/> after this search, keeps its
    /// choices: within <see cref="TuningOptions.KeepFor"/> and with the count moved by at most
    /// <see cref="TuningOptions.RetuneAfterGrowth"/> of the searched one (in either direction).
    /// </summary>
    public bool Fits(int interactions, TimeSpan age, TuningOptions options) =>
        age >= TimeSpan.Zero
        && age < options.KeepFor
        && Math.Abs((double)interactions - Interactions) <= options.RetuneAfterGrowth * Interactions;
}
