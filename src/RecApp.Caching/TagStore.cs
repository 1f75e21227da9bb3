using System.Collections.Concurrent;
using System.Globalization;
using StackExchange.Redis;

namespace RecApp.Caching;

/// <summary>
/// When each tag was last invalidated (UTC ticks). The truth lives in Redis (<c>KeyPrefix + "__tag:" + tag</c>), so
/// it survives restarts and is shared by every instance; each instance keeps what it read for
/// <c>TagCacheDuration</c> and hears about new invalidations at once through the backplane. An entry is stale when
/// any of its tags, or the all-entries tag <c>"*"</c>, was invalidated at or after the entry's own creation time.
/// </summary>
internal sealed class TagStore(DistributedTier l2, TimeProvider time, TimeSpan cacheDuration, TimeSpan retention)
{
    public const string All = "*";
    private const string TagKeyPrefix = "__tag:";

    private sealed record Known(long InvalidatedTicks, long ReadTicks);

    private readonly ConcurrentDictionary<string, Known> _known = new(StringComparer.Ordinal);
    private static readonly TimeSpan RetryAfterFailure = TimeSpan.FromSeconds(1);

    /// <summary>Tags being read in the background, with when that read started (one read per tag at a time, and
    /// at most one a second per tag while Redis is unreachable).</summary>
    private readonly ConcurrentDictionary<string, long> _refreshing = new(StringComparer.Ordinal);

    /// <summary>
    /// The synchronous check on L1 reads: compares against what this instance knows. Tags not known or known for
    /// too long are read again in the background; the backplane normally keeps them current.
    /// </summary>
    public bool IsStale(string[] tags, long createdTicks, long nowTicks)
    {
        if (Check(All, createdTicks, nowTicks))
        {
            return true;
        }
        foreach (var tag in tags)
        {
            if (Check(tag, createdTicks, nowTicks))
            {
                return true;
            }
        }
        return false;
    }

    private bool Check(string tag, long createdTicks, long nowTicks)
    {
        if (!_known.TryGetValue(tag, out var known))
        {
            RefreshInBackground(tag);
            return false;
        }
        if (nowTicks - known.ReadTicks > cacheDuration.Ticks)
        {
            RefreshInBackground(tag);
        }
        return known.InvalidatedTicks >= createdTicks;
    }

    /// <summary>The check on L2 reads: first reads from Redis (one MGET) every tag not known or known for too long.</summary>
    public async ValueTask<bool> IsStaleAsync(string[] tags, long createdTicks)
    {
        var now = time.GetUtcNow().UtcTicks;
        List<string>? toRead = null;
        if (NeedsRead(All, now))
        {
            (toRead ??= []).Add(All);
        }
        foreach (var tag in tags)
        {
            if (NeedsRead(tag, now))
            {
                (toRead ??= []).Add(tag);
            }
        }
        if (toRead is not null)
        {
            await ReadAsync(toRead);
        }
        foreach (var tag in tags)
        {
            if (_known.TryGetValue(tag, out var known) && known.InvalidatedTicks >= createdTicks)
            {
                return true;
            }
        }
        return _known.TryGetValue(All, out var all) && all.InvalidatedTicks >= createdTicks;
    }

    private bool NeedsRead(string tag, long now) => !_known.TryGetValue(tag, out var known) || now - known.ReadTicks > cacheDuration.Ticks;

    private async Task<bool> ReadAsync(List<string> tags)
    {
        var (done, values) = await l2.RunAsync("tag-read", tags, static (redis, tags) =>
            redis.GetManyAsync(tags.ConvertAll(static t => TagKeyPrefix + t)));
        if (!done || values is null)
        {
            return false;
        }
        var now = time.GetUtcNow().UtcTicks;
        for (var i = 0; i < tags.Count; i++)
        {
            long ticks = 0;
            if (values[i] is { } bytes)
            {
                _ = long.TryParse(System.Text.Encoding.ASCII.GetString(bytes), NumberStyles.Integer, CultureInfo.InvariantCulture, out ticks);
            }
            Record(tags[i], ticks, now);
        }
        return true;
    }

    private void RefreshInBackground(string tag)
    {
        var now = time.GetUtcNow().UtcTicks;
        if (_refreshing.TryGetValue(tag, out var started))
        {
            if (now - started < RetryAfterFailure.Ticks || !_refreshing.TryUpdate(tag, now, started))
            {
                return;
            }
        }
        else if (!_refreshing.TryAdd(tag, now))
        {
            return;
        }
        _ = Task.Run(async () =>
        {
            if (await ReadAsync([tag]))
            {
                _refreshing.TryRemove(tag, out _);
            }
        });
    }

    /// <summary>Records the invalidation here and in Redis; false when Redis could not be written.</summary>
    public async ValueTask<bool> InvalidateAsync(string[] tags, long ticks)
    {
        var now = time.GetUtcNow().UtcTicks;
        foreach (var tag in tags)
        {
            Record(tag, ticks, now);
        }
        var value = ticks.ToString(CultureInfo.InvariantCulture);
        return await l2.RunAsync("tag-write", (tags, value, retention), static (redis, state) =>
        {
            var database = redis.Connection.GetDatabase();
            var writes = new Task[state.tags.Length];
            for (var i = 0; i < state.tags.Length; i++)
            {
                writes[i] = database.StringSetAsync(redis.Key(TagKeyPrefix + state.tags[i]), state.value, state.retention);
            }
            return Task.WhenAll(writes);
        });
    }

    /// <summary>An invalidation another instance announced on the backplane.</summary>
    public void OnRemoteInvalidation(string tag, long ticks) => Record(tag, ticks, time.GetUtcNow().UtcTicks);

    /// <summary>Forgets everything known, so every tag is read from Redis again (after a reconnect).</summary>
    public void Clear() => _known.Clear();

    private void Record(string tag, long invalidatedTicks, long readTicks) =>
        _known.AddOrUpdate(
            tag,
            static (_, state) => new Known(state.invalidatedTicks, state.readTicks),
            static (_, existing, state) => new Known(Math.Max(existing.InvalidatedTicks, state.invalidatedTicks), state.readTicks),
            (invalidatedTicks, readTicks));
}
