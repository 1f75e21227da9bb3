using System.Threading.Channels;
using RecApp.Api.PubSub;
using RecApp.Data;
using RecApp.Data.Source;
using RecApp.Engine;
using RecApp.Engine.Model;
using RecApp.Engine.Training;
using RecApp.Engine.Embeddings;
using RecApp.Data.Models;
using RecApp.Api.Model;
using RecApp.Engine.Scoring;
using RecApp.Api.Recommendations;
using StackExchange.Redis;
using RecApp.Data.Experiments;

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
/// The running experiments, one per surface, kept in memory, and the engine of each variant: the base recommendation
/// settings with the variant's changes applied. Re-read from <c>experiments</c> at once after a change on this instance,
/// within milliseconds after a change on another (its announcement on <see cref="RedisNames.ExperimentsChanged"/>), and
/// every few seconds regardless (the fallback while Redis is away).
/// </summary>
public sealed class ExperimentCatalog(
    ExperimentStore store,
    VariantRecommenders recommenders,
    ExposureRecorder exposures,
    IConnectionMultiplexer redis,
    IConfiguration configuration,
    ILogger<ExperimentCatalog> logger) : BackgroundService
{
    private static readonly TimeSpan s_poll = TimeSpan.FromSeconds(5);

    private volatile IReadOnlyDictionary<ExperimentSurface, ExperimentDefinition> _running =
        new Dictionary<ExperimentSurface, ExperimentDefinition>();

    private readonly RedisChannel _channel = RedisChannel.Literal(RedisNames.From(configuration).ExperimentsChanged);
    private ChannelSubscription? _subscription;

    // Announcements only wake the loop below (many at once count as one re-read).
    private readonly Channel<bool> _announced = Channel.CreateBounded<bool>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });

    private ChannelSubscription Subscription =>
        _subscription ??= new ChannelSubscription(redis, _channel, (_, _) => _announced.Writer.TryWrite(true), logger);

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

    /// <summary>Re-reads the running experiments now.</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        var running = (await store.ListAsync(cancellationToken))
            .Where(e => e.Status == ExperimentStatus.Running)
            .ToDictionary(e => e.Surface);
        _running = running;
    }

    /// <summary>After a change made through this instance: re-reads here, then tells the other instances (bounded).</summary>
    public async Task ChangedAsync(string experiment, CancellationToken cancellationToken)
    {
        await RefreshAsync(cancellationToken);
        try
        {
            await ChannelSubscription.Bounded(redis.GetSubscriber().PublishAsync(_channel, experiment), cancellationToken);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            logger.LogWarning("Could not announce the change of experiment {Experiment} ({Error}); other instances pick it up within {Poll} s.",
                experiment, ex.Message, s_poll.TotalSeconds);
        }
    }

    /// <summary>Subscribes before the instance serves, so a change announced right after start-up is heard.</summary>
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await Subscription.SubscribeAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await Subscription.UnsubscribeAsync();
        await base.StopAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RefreshAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogDebug(ex, "Could not read the experiments; the ones known keep running.");
            }
            await AnnouncedWithinAsync(s_poll, stoppingToken);
        }
    }

    private async Task AnnouncedWithinAsync(TimeSpan interval, CancellationToken stoppingToken)
    {
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        wait.CancelAfter(interval);
        try
        {
            await _announced.Reader.ReadAsync(wait.Token);
        }
        catch (OperationCanceledException)
        {
            // the poll's turn (or stopping: the loop ends)
        }
    }
}
