using Microsoft.Extensions.Options;
using RecApp.Data;

namespace RecApp.Api;

/// <summary>
/// Bounds a request's write to PostgreSQL by <see cref="DatabaseTimeoutOptions.WriteTimeout"/>. The write gets a token
/// cancelled at the deadline (Npgsql then cancels the statement), and the caller is answered at the deadline whatever
/// the driver does: a frozen server can hold a cancellation for seconds. What the caller is told stays true through the
/// write's <see cref="CommitGate"/>.
/// </summary>
public sealed class DatabaseWrites(IOptions<DatabaseTimeoutOptions> options, DatabaseOutageLog outages)
{
    public async Task<T> WithinTimeoutAsync<T>(Func<CommitGate, CancellationToken, Task<T>> write)
    {
        var timeout = options.Value.WriteTimeout;
        var gate = new CommitGate();
        using var deadline = new CancellationTokenSource(timeout);
        var task = write(gate, deadline.Token);
        try
        {
            var result = await task.WaitAsync(timeout);
            outages.Answered();
            return result;
        }
        catch (Exception ex) when (ex is TimeoutException || (ex is OperationCanceledException && deadline.IsCancellationRequested))
        {
            _ = task.ContinueWith(static t => _ = t.Exception, TaskScheduler.Default); // finishes (or fails) in the background, observed
            throw new DatabaseWriteTimeoutException(timeout, gate.GiveUp());
        }
    }
}

/// <summary>PostgreSQL did not confirm a write in time. <see cref="MayBeStored"/>: its commit had begun.</summary>
public sealed class DatabaseWriteTimeoutException(TimeSpan timeout, bool mayBeStored)
    : TimeoutException($"The database did not confirm the write within {timeout.TotalMilliseconds:F0} ms.")
{
    public bool MayBeStored { get; } = mayBeStored;
}
