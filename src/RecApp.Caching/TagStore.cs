using System.Collections.Concurrent;
using System.Globalization;
using StackExchange.Redis;

namespace RecApp.Caching;

/// <summary>
/// When each tag was last invalidated (UTC ticks). The truth lives in Redis (<c>KeyPrefix + "__tag:" + tag</c>), so
/// it survives restarts and is shared by every instance; each instance keeps what it read for
/// <c>TagCacheDuration</c> and hears about new invalidations at once through the backplane. An entry is stale when
/// any of its tags, or the all-entries tag <c>"*"</c>, was invalidated at or after the entry's own creation time.
/// <para>
/// What an instance knows is bounded (one tag per user would otherwise grow it forever): a sweep, at most once per
/// <c>TagCacheDuration</c> or whenever more than <paramref name="maximumTags"/> tags are known, forgets tags not read
/// for <c>TagCacheDuration</c> (they would be read again anyway), then the least recently read ones beyond the bound.
/// A forgotten tag's invalidation time is folded into one floor: until the tag is read again, an entry created at or
/// before the floor counts as stale (an extra read, never a stale value served).
/// </para>
/// </summary>
internal sealed class TagStore(DistributedTier l2, TimeProvider time, TimeSpan cacheDuration, TimeSpan retention, int maximumTags)
{
    public const string All = "*";
    private const string TagKeyPrefix = "__tag:";

    private sealed record Known(long InvalidatedTicks, long ReadTicks);

    private readonly ConcurrentDictionary<string, Known> _known = new(StringComparer.Ordinal);
    private static readonly TimeSpan RetryAfterFailure = TimeSpan.FromSeconds(1);

    /// <summary>Tags being read in the background, with when that read started (one read per tag at a time, and
    /// at most one a second per tag while Redis is unreachable).</summary>
    private readonly ConcurrentDictionary<string, long> _refreshing = new(StringComparer.Ordinal);

    /// <summary>The latest invalidation time among forgotten tags: what an unknown tag is assumed to have.</summary>
    private long _forgottenFloor = long.MinValue;

    /// <summary>Approximate number of tags in both maps (a hint for the sweep; ConcurrentDictionary.Count locks).</summary>
    private int _tracked;
    private long _nextSweepTicks;
    private int _sweeping;

    /// <summary>Tags known now, plus tags being read (tests and diagnostics).</summary>
    public int TrackedTags => _known.Count + _refreshing.Count;

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
            return Volatile.Read(ref _forgottenFloor) >= createdTicks;
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
            if (InvalidatedTicks(tag) >= createdTicks)
            {
                return true;
            }
        }
        return InvalidatedTicks(All) >= createdTicks;
    }

    /// <summary>The known invalidation time, or the floor for a tag not known (Redis could not be read).</summary>
    private long InvalidatedTicks(string tag) =>
        _known.TryGetValue(tag, out var known) ? known.InvalidatedTicks : Volatile.Read(ref _forgottenFloor);

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
        else
        {
            Added(now);
        }
        _ = Task.Run(async () =>
        {
            if (await ReadAsync([tag]) && _refreshing.TryRemove(tag, out _))
            {
                Interlocked.Decrement(ref _tracked);
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

    /// <summary>
    /// Forgets everything known, so every tag is read from Redis again (after a reconnect, together with L1). The
    /// floor stays: forgetting never makes an entry fresh.
    /// </summary>
    public void Clear()
    {
        _known.Clear();
        _refreshing.Clear();
        Volatile.Write(ref _tracked, 0);
    }

    private void Record(string tag, long invalidatedTicks, long readTicks)
    {
        while (true)
        {
            if (_known.TryGetValue(tag, out var existing))
            {
                if (_known.TryUpdate(tag, new Known(Math.Max(existing.InvalidatedTicks, invalidatedTicks), readTicks), existing))
                {
                    return;
                }
            }
            else if (_known.TryAdd(tag, new Known(invalidatedTicks, readTicks)))
            {
                Added(readTicks);
                return;
            }
        }
    }

    /// <summary>A tag entered one of the maps: sweep when the interval has passed or the bound is exceeded.</summary>
    private void Added(long now)
    {
        var tracked = Interlocked.Increment(ref _tracked);
        if ((tracked > maximumTags || now >= Volatile.Read(ref _nextSweepTicks)) && Volatile.Read(ref _sweeping) == 0)
        {
            // Off the caller's path: the sweep walks every known tag.
            _ = Task.Run(() => SweepWhileOverBound(now));
        }
    }

    /// <summary>
    /// One sweeper at a time. Tags added during a sweep by callers that saw it running are not lost: after releasing
    /// the flag (a full fence) the sweeper looks at the count again, and those callers incremented it before looking.
    /// </summary>
    private void SweepWhileOverBound(long now)
    {
        while (Interlocked.Exchange(ref _sweeping, 1) == 0)
        {
            try
            {
                Sweep(now);
            }
            finally
            {
                Interlocked.Exchange(ref _sweeping, 0);
            }
            if (Volatile.Read(ref _tracked) <= maximumTags)
            {
                return;
            }
        }
    }

    /// <summary>Forgets tags not read for the cache duration, then the least recently read beyond the bound.</summary>
    private void Sweep(long now)
    {
        Volatile.Write(ref _nextSweepTicks, now + cacheDuration.Ticks);
        foreach (var (tag, started) in _refreshing)
        {
            // A read started that long ago has ended or failed; only its retry throttle is lost.
            if (now - started > Math.Max(cacheDuration.Ticks, RetryAfterFailure.Ticks))
            {
                _refreshing.TryRemove(new KeyValuePair<string, long>(tag, started));
            }
        }
        List<KeyValuePair<string, Known>>? kept = null;
        foreach (var pair in _known)
        {
            if (now - pair.Value.ReadTicks > cacheDuration.Ticks)
            {
                Forget(pair);
            }
            else
            {
                (kept ??= []).Add(pair);
            }
        }
        var excess = (kept?.Count ?? 0) + _refreshing.Count - maximumTags;
        if (excess > 0)
        {
            // Down to three quarters of the bound, so a steady stream of new tags does not sweep on every one.
            excess += maximumTags / 4;
            kept!.Sort(static (a, b) => a.Value.ReadTicks.CompareTo(b.Value.ReadTicks));
            foreach (var pair in kept.Take(excess))
            {
                Forget(pair);
            }
        }
        Volatile.Write(ref _tracked, _known.Count + _refreshing.Count);
    }

    private void Forget(KeyValuePair<string, Known> pair)
    {
        // Raise the floor first: there is never a moment when neither the tag nor the floor covers the invalidation.
        var floor = Volatile.Read(ref _forgottenFloor);
        while (pair.Value.InvalidatedTicks > floor)
        {
            var seen = Interlocked.CompareExchange(ref _forgottenFloor, pair.Value.InvalidatedTicks, floor);
            if (seen == floor)
            {
                break;
            }
            floor = seen;
        }
        _known.TryRemove(pair);
    }
}
