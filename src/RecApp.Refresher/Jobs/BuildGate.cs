namespace RecApp.Refresher.Jobs;

/// <summary>
/// One build at a time. Jobs that fall due together run side by side, but only one of them reads the dataset and builds
/// while the others wait or publish: the Refresher's memory holds one build's working set at a time (at XL a single
/// build peaks near 8 GB), and a job's publishing, which is PostgreSQL's work, overlaps the next job's build.
/// </summary>
public sealed class BuildGate
{
    private readonly SemaphoreSlim _turn = new(1, 1);

    /// <summary>Waits for this job's turn to build; dispose the result when the build is done.</summary>
    public async Task<IDisposable> EnterAsync(CancellationToken cancellationToken)
    {
        await _turn.WaitAsync(cancellationToken);
        return new Turn(_turn);
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
