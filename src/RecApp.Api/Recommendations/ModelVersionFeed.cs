using System.Diagnostics;
using Microsoft.Extensions.Options;
using RecApp.Recommendations.Model;
using StackExchange.Redis;

namespace RecApp.Api.Recommendations;

/// <summary>
/// Follows model publications. On the Refresher's Redis announcement (<see cref="ModelChannels.VersionPublished"/>)
/// the in-process model reloads at once instead of at its next poll; whichever way a new version arrives, the
/// cache is then warmed for the most active users. The version is part of every cache key, so the new version's
/// lists never mix with the old ones.
/// </summary>
public sealed class ModelVersionFeed(
    IGlobalModel model,
    IConnectionMultiplexer redis,
    CacheWarmer warmer,
    IOptions<ApiOptions> options,
    ILogger<ModelVersionFeed> logger) : BackgroundService
{
    private long _warmedVersion = -1;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // The model loads at start-up; warm for whatever version it has, then watch for changes (an in-memory
        // check). Subscribing is retried here while Redis is down; once subscribed, the multiplexer re-subscribes
        // by itself after a reconnect.
        var subscribed = await TrySubscribeAsync(stoppingToken);
        var interval = TimeSpan.FromSeconds(options.Value.ModelPollSeconds);
        while (!stoppingToken.IsCancellationRequested)
        {
            await WarmIfNewAsync(stoppingToken);
            await Task.Delay(interval, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            subscribed = subscribed || await TrySubscribeAsync(stoppingToken);
        }
    }

    private async Task OnAnnouncedAsync(CancellationToken cancellationToken)
    {
        try
        {
            await model.ReloadAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogWarning(ex, "Reload after a model announcement failed; the model's poll will retry.");
            return;
        }
        await WarmIfNewAsync(cancellationToken);
    }

    private async Task WarmIfNewAsync(CancellationToken cancellationToken)
    {
        var version = model.Current.Version;
        var previous = Interlocked.Exchange(ref _warmedVersion, version);
        if (version == previous || version == 0)
        {
            return;
        }
        var started = Stopwatch.GetTimestamp();
        try
        {
            var users = await warmer.WarmAsync(cancellationToken);
            logger.LogInformation("Warmed the cache for {Users} users on model version {Version} in {Elapsed:F0} ms.",
                users, version, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogWarning(ex, "Cache warm-up for model version {Version} failed; lists are computed on demand.", version);
        }
    }

    private async Task<bool> TrySubscribeAsync(CancellationToken stoppingToken)
    {
        try
        {
            // The payload is not trusted: the reload reads model_current from this instance's own database.
            await redis.GetSubscriber().SubscribeAsync(
                new RedisChannel(ModelChannels.VersionPublished, RedisChannel.PatternMode.Literal),
                (_, _) => { _ = OnAnnouncedAsync(stoppingToken); });
            return true;
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            logger.LogDebug(ex, "Could not subscribe to model announcements yet.");
            return false;
        }
    }
}
