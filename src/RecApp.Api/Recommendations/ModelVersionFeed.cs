using System.Diagnostics;
using Microsoft.Extensions.Options;
using Npgsql;
using RecApp.Recommendations.Model;
using StackExchange.Redis;

namespace RecApp.Api.Recommendations;

/// <summary>
/// The model version this instance serves, part of every cache key: a new version gives new lists. It is the
/// highest version in <c>model_current</c> (every published part raises it).
/// </summary>
public sealed class ModelVersionTracker
{
    private long _current;

    public long Current => Interlocked.Read(ref _current);

    /// <summary>Sets the version; true when it moved forward.</summary>
    internal bool Advance(long version)
    {
        var seen = Interlocked.Read(ref _current);
        while (version > seen)
        {
            var previous = Interlocked.CompareExchange(ref _current, version, seen);
            if (previous == seen)
            {
                return true;
            }
            seen = previous;
        }
        return false;
    }
}

/// <summary>
/// Follows model publications: the Refresher's Redis announcement (<see cref="ModelChannels.VersionPublished"/>)
/// and, as a safety net, a poll of <c>model_current</c>. The announcement's payload is not trusted: the version is
/// re-read from this instance's own database. On a new version the cache is warmed for the most active users.
/// </summary>
public sealed class ModelVersionFeed(
    ModelVersionTracker tracker,
    NpgsqlDataSource dataSource,
    IConnectionMultiplexer redis,
    CacheWarmer warmer,
    IOptions<ApiOptions> options,
    ILogger<ModelVersionFeed> logger) : BackgroundService
{
    private readonly SemaphoreSlim _checking = new(1, 1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _ = SubscribeAsync(stoppingToken);
        var interval = TimeSpan.FromSeconds(options.Value.ModelPollSeconds);
        while (!stoppingToken.IsCancellationRequested)
        {
            await CheckAsync(warm: tracker.Current != 0, stoppingToken);
            await Task.Delay(interval, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    /// <summary>Re-reads the current version; on a change, warms the cache when <paramref name="warm"/>.</summary>
    internal async Task CheckAsync(bool warm, CancellationToken cancellationToken)
    {
        await _checking.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (cancellationToken.IsCancellationRequested)
        {
            return;
        }
        try
        {
            await using var command = dataSource.CreateCommand("SELECT coalesce(max(version), 0) FROM model_current");
            var version = (long)(await command.ExecuteScalarAsync(cancellationToken))!;
            if (tracker.Advance(version))
            {
                logger.LogInformation("Serving model version {Version}.", version);
                if (warm)
                {
                    _ = WarmAsync(version, cancellationToken);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException)
        {
            logger.LogDebug(ex, "Could not read model_current; keeping version {Version}.", tracker.Current);
        }
        finally
        {
            _checking.Release();
        }
    }

    private async Task WarmAsync(long version, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            var users = await warmer.WarmAsync(cancellationToken);
            logger.LogInformation("Warmed the cache for {Users} users on model version {Version} in {Elapsed} ms.",
                users, version, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogWarning(ex, "Cache warm-up for model version {Version} failed; lists are computed on demand.", version);
        }
    }

    private async Task SubscribeAsync(CancellationToken cancellationToken)
    {
        var channel = new RedisChannel(ModelChannels.VersionPublished, RedisChannel.PatternMode.Literal);
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await redis.GetSubscriber().SubscribeAsync(channel, (_, _) => { _ = CheckAsync(warm: true, cancellationToken); });
                return;
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                logger.LogDebug(ex, "Could not subscribe to model announcements yet.");
                await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }
}
