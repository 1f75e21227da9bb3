namespace RecApp.Refresher.Jobs;

/// <summary>
/// One recomputation the Refresher runs on a schedule or on demand. Names are the ones the admin API uses:
/// <c>popular</c>, <c>profiles</c>, <c>similarities</c>, <c>cleanup</c>.
/// </summary>
public interface IModelJob
{
    string Name { get; }

    /// <summary>Runs to completion and publishes atomically, or throws and leaves the previous version serving.</summary>
    Task<ModelJobResult> RunAsync(CancellationToken cancellationToken);
}

/// <summary>What a job did: rows written and the model version it published (null for cleanup).</summary>
public sealed record ModelJobResult(long Rows, long? ModelVersion);
