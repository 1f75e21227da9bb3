using System.Buffers.Binary;
using System.Text;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace RecApp.Caching;

/// <summary>What an instance tells the others.</summary>
internal enum BackplaneMessageKind : byte
{
    /// <summary>These keys were set or removed: drop your L1 copies.</summary>
    EvictKeys = 1,

    /// <summary>These tags were invalidated at the given time (<c>"*"</c>: everything).</summary>
    InvalidateTags = 2,
}

/// <summary>
/// Redis pub/sub on <c>KeyPrefix + "backplane"</c>. A message is
/// <c>version (1) | sender id (16) | kind (1) | ticks (8) | count (4) | per item: length (4), UTF-8</c>;
/// an instance ignores its own. Subscribes again whenever the connection is restored.
/// </summary>
internal sealed class Backplane : IDisposable
{
    private const byte Version = 1;
    private readonly Guid _instanceId = Guid.NewGuid();
    private readonly IConnectionMultiplexer _redis;
    private readonly RedisChannel _channel;
    private readonly DistributedTier _l2;
    private readonly CacheTelemetry _telemetry;
    private readonly ILogger _logger;
    private readonly Action<BackplaneMessageKind, long, string[]> _onMessage;
    private readonly Action<RedisChannel, RedisValue> _handler;
    private int _subscribed;

    public Backplane(
        IConnectionMultiplexer redis, string keyPrefix, DistributedTier l2, CacheTelemetry telemetry, ILogger logger,
        Action<BackplaneMessageKind, long, string[]> onMessage)
    {
        _redis = redis;
        _channel = new RedisChannel(keyPrefix + "backplane", RedisChannel.PatternMode.Literal);
        _l2 = l2;
        _telemetry = telemetry;
        _logger = logger;
        _onMessage = onMessage;
        _handler = OnRedisMessage;
    }

    public bool IsSubscribed => Volatile.Read(ref _subscribed) == 1;

    /// <summary>Subscribes (again): drops any previous subscription of this instance first so handlers never double.</summary>
    public async Task SubscribeAsync()
    {
        try
        {
            var subscriber = _redis.GetSubscriber();
            await subscriber.UnsubscribeAsync(_channel, _handler).WaitAsync(TimeSpan.FromSeconds(5));
            await subscriber.SubscribeAsync(_channel, _handler).WaitAsync(TimeSpan.FromSeconds(5));
            Volatile.Write(ref _subscribed, 1);
        }
        catch (Exception ex)
        {
            // Retried on the next reconnect or breaker heal.
            Volatile.Write(ref _subscribed, 0);
            CacheLog.L2Failed(_logger, "subscribe", ex);
        }
    }

    public async ValueTask<bool> PublishAsync(BackplaneMessageKind kind, long ticks, IReadOnlyList<string> items)
    {
        var message = Encode(kind, ticks, items);
        var (done, _) = await _l2.RunAsync("publish", (_redis, _channel, message), static (_, state) =>
            state._redis.GetSubscriber().PublishAsync(state._channel, state.message));
        if (done)
        {
            _telemetry.Sent();
        }
        return done;
    }

    private byte[] Encode(BackplaneMessageKind kind, long ticks, IReadOnlyList<string> items)
    {
        var length = 1 + 16 + 1 + 8 + 4;
        foreach (var item in items)
        {
            length += 4 + Encoding.UTF8.GetByteCount(item);
        }
        var bytes = new byte[length];
        bytes[0] = Version;
        _instanceId.TryWriteBytes(bytes.AsSpan(1, 16));
        bytes[17] = (byte)kind;
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(18), ticks);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(26), items.Count);
        var position = 30;
        foreach (var item in items)
        {
            var written = Encoding.UTF8.GetBytes(item, bytes.AsSpan(position + 4));
            BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(position), written);
            position += 4 + written;
        }
        return bytes;
    }

    private void OnRedisMessage(RedisChannel channel, RedisValue value)
    {
        try
        {
            byte[]? bytes = value;
            if (bytes is null || bytes.Length < 30 || bytes[0] != Version)
            {
                return;
            }
            if (new Guid(bytes.AsSpan(1, 16)) == _instanceId)
            {
                return;
            }
            var kind = (BackplaneMessageKind)bytes[17];
            var ticks = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(18));
            var count = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(26));
            var items = new string[count];
            var position = 30;
            for (var i = 0; i < count; i++)
            {
                var length = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(position));
                items[i] = Encoding.UTF8.GetString(bytes.AsSpan(position + 4, length));
                position += 4 + length;
            }
            _telemetry.Received();
            _onMessage(kind, ticks, items);
        }
        catch (Exception ex) when (ex is ArgumentException or IndexOutOfRangeException or OverflowException)
        {
            CacheLog.BadBackplaneMessage(_logger, ex);
        }
    }

    public void Dispose()
    {
        try
        {
            _redis.GetSubscriber().Unsubscribe(_channel, _handler, CommandFlags.FireAndForget);
        }
        catch (Exception ex) when (ex is RedisException or ObjectDisposedException)
        {
            // The connection is going away anyway.
        }
    }
}
