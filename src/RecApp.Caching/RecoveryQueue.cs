namespace RecApp.Caching;

/// <summary>
/// Changes that could not reach Redis (an outage, an open breaker): explicit sets, removals and tag invalidations,
/// kept per key or tag (the latest wins) and replayed in order, with their backplane messages, once Redis answers
/// again. Without it, an invalidation made during an outage would be forgotten when the instance reloads its tag
/// times after reconnecting, and other instances would keep serving the old value from Redis.
/// </summary>
internal sealed class RecoveryQueue(int limit)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, (long Sequence, Func<ValueTask<bool>> Replay)> _pending = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _replaying = new(1, 1);
    private long _sequence;

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _pending.Count;
            }
        }
    }

    /// <summary>Keeps the change; false when the queue is full (the change is then only local, and logged by the caller).</summary>
    public bool Add(string id, Func<ValueTask<bool>> replay)
    {
        lock (_gate)
        {
            if (_pending.Count >= limit && !_pending.ContainsKey(id))
            {
                return false;
            }
            _pending[id] = (++_sequence, replay);
            return true;
        }
    }

    /// <summary>Replays in order; stops at the first change that fails again (Redis is down again) and keeps the rest.</summary>
    public async Task ReplayAsync()
    {
        if (!await _replaying.WaitAsync(0))
        {
            return;
        }
        try
        {
            KeyValuePair<string, (long Sequence, Func<ValueTask<bool>> Replay)>[] snapshot;
            lock (_gate)
            {
                snapshot = [.. _pending.OrderBy(p => p.Value.Sequence)];
            }
            foreach (var (id, (sequence, replay)) in snapshot)
            {
                if (!await replay())
                {
                    return;
                }
                lock (_gate)
                {
                    if (_pending.TryGetValue(id, out var current) && current.Sequence == sequence)
                    {
                        _pending.Remove(id);
                    }
                }
            }
        }
        finally
        {
            _replaying.Release();
        }
    }
}
