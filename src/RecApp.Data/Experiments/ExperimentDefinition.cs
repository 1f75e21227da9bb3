namespace RecApp.Data.Experiments;

/// <summary>Where an experiment runs: one running experiment per surface at a time.</summary>
public enum ExperimentSurface
{
    Personalized,
    Popular,
    Similar,
}

public enum ExperimentStatus
{
    Draft,
    Running,
    Stopped,
}

/// <summary>
/// One arm of an experiment: its share of the traffic (percent) and the recommendation settings it changes
/// (<c>Recommendations:*</c> keys without the section, e.g. <c>CollaborativeWeight</c>), empty for the control.
/// </summary>
public sealed record ExperimentVariant(string Name, int SharePercent, IReadOnlyDictionary<string, string> Settings);

/// <summary>An experiment as stored: the salt makes assignments independent across experiments.</summary>
public sealed record ExperimentDefinition(
    string Name,
    ExperimentSurface Surface,
    string Salt,
    IReadOnlyList<ExperimentVariant> Variants,
    ExperimentStatus Status,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? StoppedAt)
{
    /// <summary>The first variant is the control every other one is compared with.</summary>
    public ExperimentVariant Control => Variants[0];
}
