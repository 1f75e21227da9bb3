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
    private int _count;
    private int _requested;

    /// <summary>Cheap check for the hot path: whether anything waits for Redis.</summary>
    public bool HasPending => Volatile.Read(ref _count) > 0;

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
            Volatile.Write(ref _count, _pending.Count);
            return true;
        }
    }

    /// <summary>
    /// Replays in order; a pass stops at the first change that fails again (Redis is down again) and keeps the rest.
    /// A request made while a replay runs makes that replay run one more pass.
    /// </summary>
    public async Task ReplayAsync()
    {
        Volatile.Write(ref _requested, 1);
        if (!await _replaying.WaitAsync(0))
        {
            return;
        }
        try
        {
            while (Interlocked.Exchange(ref _requested, 0) == 1 && HasPending)
            {
                await ReplayPassAsync();
            }
        }
        finally
        {
            _replaying.Release();
        }
    }

    private async Task ReplayPassAsync()
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
                    Volatile.Write(ref _count, _pending.Count);
                }
            }
        }
    }
}
