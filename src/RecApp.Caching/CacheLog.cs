using Microsoft.Extensions.Logging;

namespace RecApp.Caching;

internal static partial class CacheLog
{
    [LoggerMessage(1, LogLevel.Warning, "Redis {Operation} failed; the cache carries on without L2.")]
    public static partial void L2Failed(ILogger logger, string operation, Exception exception);

    [LoggerMessage(2, LogLevel.Warning, "Cache circuit breaker opened after repeated Redis failures; L2 is skipped for {Duration}.")]
    public static partial void BreakerOpened(ILogger logger, TimeSpan duration);

    [LoggerMessage(3, LogLevel.Information, "Cache circuit breaker closed: Redis answers again.")]
    public static partial void BreakerClosed(ILogger logger);

    [LoggerMessage(4, LogLevel.Warning, "Cache entry '{Key}' in Redis was rejected ({Reason}); treated as a miss.")]
    public static partial void PayloadRejected(ILogger logger, string key, string reason, Exception? exception);

    [LoggerMessage(5, LogLevel.Warning, "Cache key of length {Length} exceeds MaximumKeyLength; the factory runs without caching.")]
    public static partial void KeyTooLong(ILogger logger, int length);

    [LoggerMessage(6, LogLevel.Warning, "Cache value for '{Key}' is {Bytes} bytes, over MaximumPayloadBytes; kept in L1 only.")]
    public static partial void PayloadTooLarge(ILogger logger, string key, int bytes);

    [LoggerMessage(7, LogLevel.Warning, "Factory for cache key '{Key}' failed; serving a stale value created {Age} ago (stale-if-error).")]
    public static partial void ServingStale(ILogger logger, string key, TimeSpan age, Exception exception);

    [LoggerMessage(8, LogLevel.Warning, "Background refresh of cache key '{Key}' failed; the current value stays until it expires.")]
    public static partial void EagerRefreshFailed(ILogger logger, string key, Exception exception);

    [LoggerMessage(9, LogLevel.Information, "Redis connection restored: backplane resubscribed, L1 and tag times dropped (messages may have been missed).")]
    public static partial void Reconnected(ILogger logger);

    [LoggerMessage(10, LogLevel.Warning, "Backplane message could not be read; ignored.")]
    public static partial void BadBackplaneMessage(ILogger logger, Exception exception);

    [LoggerMessage(11, LogLevel.Warning, "Cache value for '{Key}' could not be serialized; it is returned but not cached.")]
    public static partial void SerializeFailed(ILogger logger, string key, Exception exception);

    [LoggerMessage(12, LogLevel.Warning, "Cache recovery queue is full; the change '{Change}' made while Redis was unreachable stays local.")]
    public static partial void RecoveryQueueFull(ILogger logger, string change);
}
