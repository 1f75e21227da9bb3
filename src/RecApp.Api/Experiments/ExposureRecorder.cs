using System.Threading.Channels;
using RecApp.Data.Experiments;

namespace RecApp.Api.Experiments;

/// <summary>
/// Records exposures off the request path: answers enqueue, one background writer stores them in batches with
/// binary COPY. The queue is bounded; when the database cannot keep up (or is down) the newest exposures are
/// dropped and counted, never blocking an answer.
/// </summary>
public sealed class ExposureRecorder(ExperimentStore store, ILogger<ExposureRecorder> logger) : BackgroundService
{
    private const int BatchSize = 1_000;

    private readonly Channel<Exposure> _queue = Channel.CreateBounded<Exposure>(
        new BoundedChannelOptions(100_000) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });

    private long _dropped;

    public long Dropped => Interlocked.Read(ref _dropped);

    public void Record(Exposure exposure)
    {
        if (!_queue.Writer.TryWrite(exposure))
        {
            Interlocked.Increment(ref _dropped);
        }
    }

    /// <summary>Waits until everything queued so far is stored (used by tests and on shutdown).</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        while (_queue.Reader.Count > 0 || Volatile.Read(ref _writing) == 1)
        {
            await Task.Delay(10, cancellationToken);
        }
    }

    private int _writing;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<Exposure>(BatchSize);
        try
        {
            while (await _queue.Reader.WaitToReadAsync(stoppingToken))
            {
                Volatile.Write(ref _writing, 1);
                while (batch.Count < BatchSize && _queue.Reader.TryRead(out var exposure))
                {
                    batch.Add(exposure);
                }
                await WriteAsync(batch, stoppingToken);
                batch.Clear();
                Volatile.Write(ref _writing, 0);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // stopping: what is still queued is lost with the process, as any in-flight answer's exposure would be
        }
    }

    private async Task WriteAsync(List<Exposure> batch, CancellationToken cancellationToken)
    {
        try
        {
            await store.RecordAsync(batch, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Interlocked.Add(ref _dropped, batch.Count);
            logger.LogWarning(ex, "Could not record {Count} experiment exposures; they are not counted in the results.", batch.Count);
        }
    }
}
