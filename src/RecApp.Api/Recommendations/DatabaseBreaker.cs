using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using Polly;
using Polly.CircuitBreaker;
using Polly.Timeout;
using RecApp.Api.Validation;

namespace RecApp.Api.Recommendations;

/// <summary>Settings of <see cref="DatabaseBreaker"/> (section <c>DatabaseBreaker</c>).</summary>
public sealed class DatabaseBreakerOptions
{
    public const string SectionName = "DatabaseBreaker";

    /// <summary>The longest a cache miss waits for the user's history before it answers the fallback instead.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:01:00")]
    public TimeSpan ReadTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Once open, misses answer the fallback at once for this long; then one miss probes the database.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Share of failed reads, within <see cref="SamplingDuration"/>, that opens the breaker.</summary>
    [Range(0.01, 1.0)]
    public double FailureRatio { get; set; } = 0.5;

    /// <summary>Fewest reads within <see cref="SamplingDuration"/> before the ratio counts.</summary>
    [Range(2, 1000)]
    public int MinimumThroughput { get; set; } = 3;

    [Range(typeof(TimeSpan), "00:00:00.500", "00:10:00")]
    public TimeSpan SamplingDuration { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary>
/// Guards the request path's database reads (a user's history on a cache miss) with Polly: each read is bounded by
/// <see cref="DatabaseBreakerOptions.ReadTimeout"/>, and once reads keep failing the circuit opens, so misses answer
/// the in-process fallback at once instead of each waiting out a hung or unreachable PostgreSQL; after the break
/// one read probes the database and closes the circuit when it answers.
/// </summary>
public sealed class DatabaseBreaker : IUserReadGuard
{
    private readonly ResiliencePipeline _pipeline;

    private readonly DatabaseOutageLog _outages;

    public DatabaseBreaker(IOptions<DatabaseBreakerOptions> options, DatabaseOutageLog outages)
    {
        _outages = outages;
        var settings = options.Value;
        _pipeline = new ResiliencePipelineBuilder()
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                FailureRatio = settings.FailureRatio,
                MinimumThroughput = settings.MinimumThroughput,
                SamplingDuration = settings.SamplingDuration,
                BreakDuration = settings.BreakDuration,
                ShouldHandle = new PredicateBuilder().Handle<Exception>(IsOutage),
                // The outage log speaks for both: one warning when reads start failing, one line when they are back.
                OnOpened = args =>
                {
                    outages.Failed(args.Outcome.Exception ?? new TimeoutRejectedException(), $"history reads failing, breaker open for {args.BreakDuration}");
                    return ValueTask.CompletedTask;
                },
                OnClosed = _ =>
                {
                    outages.Answered();
                    return ValueTask.CompletedTask;
                },
            })
            .Build();
        _readTimeout = settings.ReadTimeout;
    }

    private readonly TimeSpan _readTimeout;

    public async ValueTask<T> ExecuteAsync<TState, T>(
        TState state, Func<TState, CancellationToken, ValueTask<T>> read, CancellationToken cancellationToken)
    {
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        try
        {
            return await _pipeline.ExecuteAsync(
                static (c, s) => s.Breaker.BoundedAsync(s.Read, s.State, c.CancellationToken), context, (Breaker: this, Read: read, State: state));
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    /// <summary>
    /// The read, given up after the timeout. Not Polly's timeout strategy: that one is cooperative and waits for the
    /// read to observe cancellation, which a frozen server can delay until the command timeout. The abandoned read is
    /// cancelled and finishes in the background; the open breaker keeps their number small.
    /// </summary>
    internal async ValueTask<T> BoundedAsync<TState, T>(
        Func<TState, CancellationToken, ValueTask<T>> read, TState state, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_readTimeout);
        var task = read(state, timeout.Token).AsTask();
        try
        {
            return await task.WaitAsync(_readTimeout, cancellationToken);
        }
        catch (Exception ex) when (ex is TimeoutException || (ex is OperationCanceledException && timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested))
        {
            // Either way round: the wait ran out first, or the read saw its token cancelled at the deadline first.
            _ = task.ContinueWith(static t => _ = t.Exception, TaskScheduler.Default); // observed, never rethrown
            throw new TimeoutRejectedException($"The database did not answer within {_readTimeout}.");
        }
    }

    /// <summary>A failure that means "the database is not answering", including the breaker's own refusals.</summary>
    public static bool IsOutage(Exception exception) =>
        exception is BrokenCircuitException or TimeoutRejectedException || ApiExceptionHandler.IsDatabaseOutage(exception);
}
