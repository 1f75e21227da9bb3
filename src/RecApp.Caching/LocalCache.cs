using System.Collections.Concurrent;

namespace RecApp.Caching;

/// <summary>
/// One L1 entry. Immutable values are held as the object itself (returned as is); mutable ones as their serialized
/// payload, deserialized into a fresh instance on every read. Times are UTC ticks.
/// </summary>
internal sealed class CacheEntry(
    string key, Type valueType, object? value, byte[]? payload, int payloadOffset, int payloadLength,
    long createdTicks, long expiresTicks, long localExpiresTicks, long retainUntilTicks, long refreshAtTicks, string[] tags)
{
    public string Key { get; } = key;

    /// <summary>The type the value was cached as; a read as another type is a miss.</summary>
    public Type ValueType { get; } = valueType;

    /// <summary>From then on a read starts one background refresh (eager refresh); <c>long.MaxValue</c> when off.</summary>
    public long RefreshAtTicks { get; } = refreshAtTicks;

    /// <summary>The value itself, for immutable types (null when <see cref="Payload"/> holds it, or a null value).</summary>
    public object? Value { get; } = value;

    /// <summary>The serialized value, for mutable types (a slice of an L2 payload).</summary>
    public byte[]? Payload { get; } = payload;

    public int PayloadOffset { get; } = payloadOffset;

    public int PayloadLength { get; } = payloadLength;

    public long CreatedTicks { get; } = createdTicks;

    /// <summary>End of the entry's overall (L2) life; eager refresh and stale-if-error measure against it.</summary>
    public long ExpiresTicks { get; } = expiresTicks;

    /// <summary>End of the L1 copy's life.</summary>
    public long LocalExpiresTicks { get; } = localExpiresTicks;

    /// <summary>Kept in L1 until then (past expiry only for stale-if-error).</summary>
    public long RetainUntilTicks { get; } = retainUntilTicks;

    public string[] Tags { get; } = tags;

    /// <summary>Bytes counted against the L1 byte bound.</summary>
    public long Size => PayloadLength;

    /// <summary>1 once an eager refresh has been started for this copy.</summary>
    public int RefreshStarted;

    // Intrusive LRU links, guarded by the LocalCache lock.
    public CacheEntry? Newer;
    public CacheEntry? Older;
    public bool Linked;
}

/// <summary>
/// The bounded L1: a concurrent map for lock-free lookups plus an intrusive doubly linked list in recency order
/// (guarded by one lock) for exact least-recently-used eviction by entry count and payload bytes.
/// </summary>
internal sealed class LocalCache
{
    private readonly ConcurrentDictionary<string, CacheEntry> _map;
    private readonly ConcurrentDictionary<string, CacheEntry>.AlternateLookup<ReadOnlySpan<char>> _spanLookup;
    private readonly Lock _lock = new();
    private CacheEntry? _newest;
    private CacheEntry? _oldest;
    private int _count;
    private long _bytes;

    private readonly int _maximumEntries;
    private readonly long _maximumBytes;
    private readonly Action<int> _onEvicted;

    public LocalCache(int maximumEntries, long maximumBytes, Action<int> onEvicted)
    {
        _maximumEntries = maximumEntries;
        _maximumBytes = maximumBytes;
        _onEvicted = onEvicted;
        _map = new ConcurrentDictionary<string, CacheEntry>(StringComparer.Ordinal);
        _spanLookup = _map.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public int Count => Volatile.Read(ref _count);

    public long Bytes => Interlocked.Read(ref _bytes);

    public bool TryGet(string key, out CacheEntry entry)
    {
        if (!_map.TryGetValue(key, out entry!))
        {
            return false;
        }
        Touch(entry);
        return true;
    }

    /// <summary>Looks up by the key's characters, without a string (span and interpolated-string keys).</summary>
    public bool TryGet(ReadOnlySpan<char> key, out CacheEntry entry)
    {
        if (!_spanLookup.TryGetValue(key, out entry!))
        {
            return false;
        }
        Touch(entry);
        return true;
    }

    private void Touch(CacheEntry entry)
    {
        if (!ReferenceEquals(Volatile.Read(ref _newest), entry))
        {
            lock (_lock)
            {
                if (entry.Linked)
                {
                    Unlink(entry);
                    LinkNewest(entry);
                }
            }
        }
    }

    /// <summary>Reads without touching recency (diagnostics and tests).</summary>
    public bool TryPeek(string key, out CacheEntry entry) => _map.TryGetValue(key, out entry!);

    public void Set(CacheEntry entry)
    {
        var evicted = 0;
        lock (_lock)
        {
            if (_map.TryGetValue(entry.Key, out var existing))
            {
                RemoveLocked(existing);
            }
            _map[entry.Key] = entry;
            LinkNewest(entry);
            _count++;
            _bytes += entry.Size;
            while (_oldest is { } oldest && oldest != entry
                && (_count > _maximumEntries || (_maximumBytes > 0 && _bytes > _maximumBytes)))
            {
                RemoveLocked(oldest);
                evicted++;
            }
        }
        if (evicted > 0)
        {
            _onEvicted(evicted);
        }
    }

    public bool Remove(string key)
    {
        lock (_lock)
        {
            if (_map.TryGetValue(key, out var existing))
            {
                RemoveLocked(existing);
                return true;
            }
        }
        return false;
    }

    /// <summary>Removes this very entry, not a newer one stored under the same key since.</summary>
    public void Remove(CacheEntry entry)
    {
        lock (_lock)
        {
            if (entry.Linked)
            {
                RemoveLocked(entry);
            }
        }
    }

    public void Clear()
    {
        lock (_lock)
        {
            _map.Clear();
            for (var entry = _newest; entry is not null;)
            {
                var next = entry.Older;
                entry.Newer = entry.Older = null;
                entry.Linked = false;
                entry = next;
            }
            _newest = _oldest = null;
            _count = 0;
            _bytes = 0;
        }
    }

    private void RemoveLocked(CacheEntry entry)
    {
        _map.TryRemove(new KeyValuePair<string, CacheEntry>(entry.Key, entry));
        Unlink(entry);
        _count--;
        _bytes -= entry.Size;
    }

    private void LinkNewest(CacheEntry entry)
    {
        entry.Older = _newest;
        entry.Newer = null;
        if (_newest is not null)
        {
            _newest.Newer = entry;
        }
        Volatile.Write(ref _newest, entry);
        _oldest ??= entry;
        entry.Linked = true;
    }

    private void Unlink(CacheEntry entry)
    {
        if (entry.Newer is not null)
        {
            entry.Newer.Older = entry.Older;
        }
        else
        {
            Volatile.Write(ref _newest, entry.Older);
        }
        if (entry.Older is not null)
        {
            entry.Older.Newer = entry.Newer;
        }
        else
        {
            _oldest = entry.Newer;
        }
        entry.Newer = entry.Older = null;
        entry.Linked = false;
    }
}
