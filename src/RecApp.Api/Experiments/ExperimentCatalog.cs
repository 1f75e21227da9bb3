using RecApp.Recommendations.Model;
using RecApp.Recommendations.Scoring;

namespace RecApp.Api.Experiments;

/// <summary>The variant a request is served in, with the engine that serves it.</summary>
public sealed record ExperimentArm(
    ExperimentDefinition Experiment, ExperimentVariant Variant, IRecommender Recommender, long UserId, ExposureRecorder Exposures)
{
    /// <summary>Records the page this user was shown in this arm (off the request path).</summary>
    public void Record(long[] items)
    {
        if (items.Length > 0)
        {
            Exposures.Record(new Exposure(Experiment.Name, Variant.Name, UserId, items, DateTimeOffset.UtcNow));
        }
    }

    /// <summary><c>{experiment}_{variant}</c>, as in the <c>X-Experiment</c> header and the <c>experiment</c> field.</summary>
    public string Label { get; } = Experiment.Name + "_" + Variant.Name;

    /// <summary>Cache tag of every list served in this experiment: changing the experiment evicts exactly those.</summary>
    public string Tag { get; } = ExperimentCatalog.Tag(Experiment.Name);
}

/// <summary>
/// The running experiments, one per surface, kept in memory (read from <c>experiments</c> every few seconds and at
/// once after a change on this instance), and the engine of each variant: the base recommendation settings with
/// the variant's changes applied.
/// </summary>
public sealed class ExperimentCatalog(
    ExperimentStore store,
    VariantRecommenders recommenders,
    ExposureRecorder exposures,
    ILogger<ExperimentCatalog> logger) : BackgroundService
{
    private static readonly TimeSpan s_poll = TimeSpan.FromSeconds(5);

    private volatile IReadOnlyDictionary<ExperimentSurface, ExperimentDefinition> _running =
        new Dictionary<ExperimentSurface, ExperimentDefinition>();

    public static string Tag(string experiment) => "experiment:" + experiment;

    /// <summary>The arm this user is in on this surface, or null when no experiment runs there.</summary>
    public ExperimentArm? ArmFor(ExperimentSurface surface, long userId)
    {
        if (!_running.TryGetValue(surface, out var experiment))
        {
            return null;
        }
        var variant = ExperimentAssignment.Assign(experiment, userId);
        return new ExperimentArm(experiment, variant, recommenders.For(experiment, variant), userId, exposures);
    }

    public IReadOnlyCollection<ExperimentDefinition> Running => [.. _running.Values];

    /// <summary>Re-reads the running experiments now (after a change made through this instance).</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        var running = (await store.ListAsync(cancellationToken))
            .Where(e => e.Status == ExperimentStatus.Running)
            .ToDictionary(e => e.Surface);
        _running = running;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(s_poll);
        try
        {
            do
            {
                try
                {
                    await RefreshAsync(stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    logger.LogDebug(ex, "Could not read the experiments; the ones known keep running.");
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // stopping
        }
    }
}
