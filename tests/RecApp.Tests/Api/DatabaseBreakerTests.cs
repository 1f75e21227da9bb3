using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Polly.Timeout;
using RecApp.Api;
using RecApp.Api.Recommendations;

namespace RecApp.Tests.Api;

/// <summary>
/// The breaker's bounded read, alone. A read that honours its token ends with an OperationCanceledException at the
/// deadline; that raced with the wait's own TimeoutException, and when the read won, the cancellation escaped the
/// breaker (no fallback for the miss; during the cache warm-up it stopped the host: seen in the fault campaign).
/// </summary>
public sealed class DatabaseBreakerTests
{
    [Fact]
    public async Task A_read_that_observes_its_cancelled_token_at_the_deadline_is_a_timeout_every_time()
    {
        var breaker = new DatabaseBreaker(
            Options.Create(new DatabaseBreakerOptions { ReadTimeout = TimeSpan.FromMilliseconds(10), MinimumThroughput = 1000 }),
            new DatabaseOutageLog(TimeProvider.System, NullLogger<DatabaseOutageLog>.Instance));
        var outcomes = new Dictionary<string, int>();
        for (var i = 0; i < 200; i++)
        {
            try
            {
                await breaker.BoundedAsync<int, int>(static async (_, token) =>
                {
                    await Task.Delay(Timeout.Infinite, token);
                    return 0;
                }, 0, CancellationToken.None);
                outcomes["completed"] = outcomes.GetValueOrDefault("completed") + 1;
            }
            catch (Exception ex)
            {
                outcomes[ex.GetType().Name] = outcomes.GetValueOrDefault(ex.GetType().Name) + 1;
            }
        }
        Assert.Equal(new Dictionary<string, int> { [nameof(TimeoutRejectedException)] = 200 }, outcomes);
    }

    [Fact]
    public async Task A_caller_that_gives_up_still_sees_its_own_cancellation()
    {
        var breaker = new DatabaseBreaker(
            Options.Create(new DatabaseBreakerOptions { ReadTimeout = TimeSpan.FromSeconds(30) }),
            new DatabaseOutageLog(TimeProvider.System, NullLogger<DatabaseOutageLog>.Instance));
        using var caller = new CancellationTokenSource(TimeSpan.FromMilliseconds(20));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await breaker.BoundedAsync<int, int>(static async (_, token) =>
        {
            await Task.Delay(Timeout.Infinite, token);
            return 0;
        }, 0, caller.Token));
    }
}
