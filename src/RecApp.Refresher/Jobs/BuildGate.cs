namespace RecApp.Refresher.Jobs;

/// <summary>
/// The turns of the jobs that run side by side (<see cref="BuildJob"/>): one job at a time reads the dataset and builds,
/// so the Refresher holds one build's working set (at XL a build peaks near 8 GB) plus the parts of the job before it
/// while they are written; and one job at a time publishes, in the order the builds ran. A job asks for its publish turn
/// before it gives up its build turn, so the next job builds while this one publishes, and versions (numbered when a
/// publish starts) commit in the order they were numbered: the API's model version, the highest part version, rises
/// with every publish.
/// </summary>
public sealed class BuildGate
{
    private readonly SemaphoreSlim _build = new(1, 1);
    private readonly SemaphoreSlim _publish = new(1, 1);

    /// <summary>Waits for this job's turn to read and build; dispose the result when the build is done.</summary>
    public Task<IDisposable> EnterBuildAsync(CancellationToken cancellationToken) => EnterAsync(_build, cancellationToken);

    /// <summary>
    /// Queues this job for its turn to publish (call it inside the build turn, so turns keep the builds' order); dispose
    /// the result when the publish is done.
    /// </summary>
    public Task<IDisposable> EnterPublishAsync(CancellationToken cancellationToken) => EnterAsync(_publish, cancellationToken);

    // SemaphoreSlim serves asynchronous waiters in the order they asked.
    private static async Task<IDisposable> EnterAsync(SemaphoreSlim turn, CancellationToken cancellationToken)
    {
        await turn.WaitAsync(cancellationToken);
        return new Turn(turn);
    }

    private sealed class Turn(SemaphoreSlim turn) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                turn.Release();
            }
        }
    }
}
