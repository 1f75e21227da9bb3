using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Options;
using Npgsql;
using RecApp.Data.Interactions;
using RecApp.Api.Caching;
using RecApp.Api.Recommendations;
using StackExchange.Redis;

namespace RecApp.Api.Interactions;

/// <summary>
/// The path a user's eviction takes while Redis is away. Normally the instance that stored an interaction removes the
/// user's tag and the cache's backplane tells every other instance; with Redis down that message cannot travel, so
/// each instance follows the <c>interactions</c> table instead: while Redis is disconnected (and one poll after it
/// returns) it evicts, in its own L1, every user with rows newer than those it has already accounted for.
/// <para>
/// An instance notices an outage only some time after it begins (the client's detection, a busy machine), and rows
/// written in that gap were already counted as "seen" while Redis looked up, though no backplane message about them
/// arrived. So the first outage poll starts from the newest row id of a poll at least
/// <see cref="CachingOptions.OutageEvictionLookback"/> old, not the last one: a few users are evicted twice, none is missed.
/// </para>
/// </summary>
public sealed class OutageUserEviction(
    InteractionStore interactions,
    IConnectionMultiplexer redis,
    HybridCache cache,
    IOptions<CachingOptions> options,
    TimeProvider clock,
    ILogger<OutageUserEviction> logger) : BackgroundService
{
    /// <summary>More changed users than this in one poll clears every list instead (the cache's clear: one check per read, not a tag per entry).</summary>
    private const int MaxUsersPerPoll = 5_000;

    private long _seenId = -1;
    private int _catchUpPolls;
    private bool _evicting;

    // Newest row id at each poll while Redis was up, oldest first, spanning at least the lookback.
    private readonly Queue<(DateTimeOffset At, long Id)> _healthyPolls = new();

    /// <summary>The newest <c>interactions</c> row id this instance has accounted for (-1 before its first poll).</summary>
    public long AccountedThrough => Volatile.Read(ref _seenId);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.OutageEvictionPollInterval, clock);
        try
        {
            do
            {
                try
                {
                    await PollAsync(stoppingToken);
                }
                catch (Exception ex) when (ex is NpgsqlException or TimeoutException or System.Net.Sockets.SocketException)
                {
                    logger.LogDebug(ex, "Could not read new interactions; retried at the next poll.");
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // stopping
        }
    }

    private async Task PollAsync(CancellationToken cancellationToken)
    {
        var redisDown = !redis.IsConnected;
        if (redisDown)
        {
            _catchUpPolls = 1; // the poll after Redis returns covers what was written while it was reconnecting
        }
        var evict = redisDown || _catchUpPolls-- > 0;
        if (!evict || _seenId < 0)
        {
            _seenId = await interactions.NewestIdAsync(cancellationToken);
            RememberHealthyPoll(_seenId);
            _evicting = false;
            return;
        }
        if (!_evicting)
        {
            _seenId = Math.Min(_seenId, _healthyPolls.Count > 0 ? _healthyPolls.Peek().Id : _seenId);
            _evicting = true;
        }

        var (users, last) = await interactions.UsersSinceAsync(_seenId, MaxUsersPerPoll * 4, cancellationToken);
        if (users.Count == 0)
        {
            return;
        }
        if (users.Count > MaxUsersPerPoll)
        {
            await cache.RemoveByTagAsync(RankedListCache.AllRecommendationsTag, cancellationToken);
        }
        else
        {
            await cache.RemoveByTagAsync(users.Select(RankedListCache.UserTag), cancellationToken);
        }
        _seenId = last;
        logger.LogInformation("Redis unavailable: evicted the lists of {Users} users with new interactions from this instance.", users.Count);
    }

    /// <summary>Keeps the newest id of every healthy poll within the lookback, plus the newest one older than it.</summary>
    private void RememberHealthyPoll(long id)
    {
        var now = clock.GetUtcNow();
        _healthyPolls.Enqueue((now, id));
        var lookback = options.Value.OutageEvictionLookback;
        while (_healthyPolls.Count > 1 && now - _healthyPolls.ElementAt(1).At >= lookback)
        {
            _healthyPolls.Dequeue();
        }
    }
}
