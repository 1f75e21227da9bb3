using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace RecApp.Caching;

/// <summary>
/// Every Redis call of the cache goes through here: bounded by <c>DistributedCacheTimeout</c>, skipped while the
/// circuit breaker is open, timed, traced, and never throwing (a failure is logged and reported as not done).
/// </summary>
internal sealed class DistributedTier(
    RedisDistributedCache redis, CircuitBreaker breaker, CacheTelemetry telemetry, TimeSpan timeout, ILogger logger)
{
    public RedisDistributedCache Redis => redis;

    public CircuitBreaker Breaker => breaker;

    /// <summary>Called after every successful call (the cache uses it to replay changes queued during an outage).</summary>
    public Action? AfterSuccess { get; set; }

    public async ValueTask<(bool Done, TResult? Result)> RunAsync<TArg, TResult>(
        string operation, TArg argument, Func<RedisDistributedCache, TArg, Task<TResult>> call)
    {
        if (!breaker.TryEnter())
        {
            Interlocked.Increment(ref telemetry.L2Skipped);
            return (false, default);
        }
        using var activity = CacheTelemetry.ActivitySource.StartActivity("cache l2 " + operation, ActivityKind.Client);
        activity?.SetTag("db.system", "redis");
        var started = Stopwatch.GetTimestamp();
        Task<TResult>? task = null;
        try
        {
            task = call(redis, argument);
            var result = await task.WaitAsync(timeout);
            telemetry.L2Call(operation, Stopwatch.GetElapsedTime(started).TotalMilliseconds, failed: false);
            breaker.Success();
            AfterSuccess?.Invoke();
            return (true, result);
        }
        catch (Exception ex)
        {
            if (task is { IsCompleted: false })
            {
                // Observe the late outcome so a timed-out call never surfaces as an unobserved exception.
                _ = task.ContinueWith(static t => _ = t.Exception, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously);
            }
            telemetry.L2Call(operation, Stopwatch.GetElapsedTime(started).TotalMilliseconds, failed: true);
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            breaker.Failure();
            CacheLog.L2Failed(logger, operation, ex);
            return (false, default);
        }
    }

    public async ValueTask<bool> RunAsync<TArg>(string operation, TArg argument, Func<RedisDistributedCache, TArg, Task> call)
    {
        var (done, _) = await RunAsync(operation, (argument, call), static async (redis, state) =>
        {
            await state.call(redis, state.argument);
            return true;
        });
        return done;
    }
}
