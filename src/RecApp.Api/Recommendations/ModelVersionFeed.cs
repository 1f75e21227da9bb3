using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using RecApp.Api.PubSub;
using RecApp.Data;
using RecApp.Data.Source;
using RecApp.Engine;
using RecApp.Engine.Model;
using RecApp.Engine.Training;
using RecApp.Engine.Embeddings;
using RecApp.Data.Models;
using RecApp.Api.Model;
using StackExchange.Redis;

namespace RecApp.Api.Recommendations;

/// <summary>
/// Follows model publications. On the Refresher's Redis announcement (<see cref="RedisNames.ModelPublished"/>)
/// the in-process model reloads at once instead of at its next poll; whichever way a new version arrives, the
/// cache is then warmed for the most active users. The version is part of every cache key, so the new version's
/// lists never mix with the old ones.
/// </summary>
public sealed class ModelVersionFeed(
    IGlobalModel model,
    IConnectionMultiplexer redis,
    CacheWarmer warmer,
    IOptions<ApiOptions> options,
    IConfiguration configuration,
    ILogger<ModelVersionFeed> logger) : BackgroundService
{
    // Announcements only wake the loop below (many at once count as one): reloads and warm-ups run one at a time,
    // on the service's own task, so none is left running unobserved after StopAsync.
    private readonly Channel<bool> _announced = Channel.CreateBounded<bool>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });

    private long _warmedVersion = -1;
    private ChannelSubscription? _subscription;

    // The payload is not trusted: the reload reads model_current from this instance's own database.
    private ChannelSubscription Subscription => _subscription ??= new ChannelSubscription(
        redis, RedisChannel.Literal(RedisNames.From(configuration).ModelPublished),
        (_, _) => _announced.Writer.TryWrite(true), logger);

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await Subscription.UnsubscribeAsync();
        await base.StopAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // The model loads at start-up; warm for whatever version it has, then watch for changes: an announcement, or
        // every ModelPollInterval a look at the in-memory version (the model's own poll of model_current may have
        // switched it). The multiplexer keeps the subscription across reconnects.
        var interval = options.Value.ModelPollInterval;
        await Subscription.SubscribeAsync(stoppingToken);
        while (!stoppingToken.IsCancellationRequested)
        {
            await WarmIfNewAsync(stoppingToken);
            if (await AnnouncedWithinAsync(interval, stoppingToken))
            {
                await ReloadAsync(stoppingToken);
            }
        }
    }

    private async Task<bool> AnnouncedWithinAsync(TimeSpan interval, CancellationToken stoppingToken)
    {
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        wait.CancelAfter(interval);
        try
        {
            return await _announced.Reader.ReadAsync(wait.Token);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private async Task ReloadAsync(CancellationToken cancellationToken)
    {
        try
        {
            await model.ReloadAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning(ex, "Reload after a model announcement failed; the model's poll will retry.");
        }
    }

    private async Task WarmIfNewAsync(CancellationToken cancellationToken)
    {
        var version = model.Current.Version;
        if (version == Interlocked.Read(ref _warmedVersion) || version == 0)
        {
            return;
        }
        var started = Stopwatch.GetTimestamp();
        try
        {
            var users = await warmer.WarmAsync(cancellationToken);
            // Recorded only once warm: a failed warm-up is tried again on the next round.
            Interlocked.Exchange(ref _warmedVersion, version);
            logger.LogInformation("Warmed the cache for {Users} users on model version {Version} in {Elapsed:F0} ms.",
                users, version, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning(ex, "Cache warm-up for model version {Version} failed; retried in a moment, lists are computed on demand.", version);
        }
    }
}
