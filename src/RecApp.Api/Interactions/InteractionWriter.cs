using Microsoft.Extensions.Caching.Hybrid;
using RecApp.Api.Model;
using RecApp.Api.Recommendations;
using RecApp.Data;
using RecApp.Data.Catalog;
using RecApp.Data.Interactions;

namespace RecApp.Api.Interactions;

/// <summary>Some events name items the catalog does not have; nothing was stored.</summary>
public sealed record UnknownItems(long[] ItemIds);

/// <summary>
/// PostgreSQL failed during a write of events. Before the commit was sent nothing was stored; once it was sent, the
/// events may or may not be stored (the answer was lost), and only a retry with the same <c>event_id</c> is safe.
/// </summary>
public sealed class InteractionsNotConfirmedException(bool mayBeStored, Exception inner)
    : Exception(mayBeStored ? "The commit of the events was interrupted." : "The events could not be written.", inner)
{
    public bool MayBeStored { get; } = mayBeStored;
}

/// <summary>
/// Stores interactions durably (<see cref="InteractionStore"/>, within <c>Database:WriteTimeout</c>), then evicts the
/// users' cached lists on every instance. Unknown users get a <c>users</c> row; an <c>event_id</c> already stored counts
/// as a duplicate (retries are safe). Item ids are checked against the catalog the service reads
/// (<see cref="ICatalogReader"/>): those the in-process catalog already has need no query, so a source database outage
/// does not stop known items' events. The events always go to <c>recdb</c>, never to a source database.
/// </summary>
public sealed class InteractionWriter(
    InteractionStore store, ICatalogReader catalogReader, DatabaseWrites writes, HybridCache cache, IGlobalModel model,
    ILogger<InteractionWriter> logger)
{
    /// <summary>Returns the counts, or the unknown items when any event names one (then nothing is stored).</summary>
    public async Task<(InteractionsAccepted? Accepted, UnknownItems? Unknown)> WriteAsync(IReadOnlyList<NewInteraction> events)
    {
        (InteractionsAccepted? Accepted, UnknownItems? Unknown) result;
        try
        {
            result = await writes.WithinTimeoutAsync((gate, cancellationToken) => StoreAsync(events, gate, cancellationToken));
        }
        catch (DatabaseWriteTimeoutException ex)
        {
            throw new InteractionsNotConfirmedException(ex.MayBeStored, ex);
        }
        if (result.Accepted is not null)
        {
            await EvictAsync([.. events.Select(e => e.UserId).Distinct()]);
        }
        return result;
    }

    private async Task<(InteractionsAccepted? Accepted, UnknownItems? Unknown)> StoreAsync(
        IReadOnlyList<NewInteraction> events, CommitGate gate, CancellationToken cancellationToken)
    {
        try
        {
            var catalog = model.Current.Catalog;
            var unknown = events.Select(e => e.ItemId).Distinct().Where(id => catalog.Find(id) is null).ToArray();
            var missing = unknown.Length == 0 ? [] : await catalogReader.MissingItemsAsync(unknown, cancellationToken);
            if (missing.Length > 0)
            {
                return (null, new UnknownItems(missing));
            }
            var stored = await store.WriteAsync(events, gate, cancellationToken);
            return (new InteractionsAccepted(stored, events.Count - stored), null);
        }
        catch (Exception ex) when (ex is not OperationCanceledException && Validation.ApiExceptionHandler.IsDatabaseOutage(ex))
        {
            throw new InteractionsNotConfirmedException(gate.HasEntered, ex);
        }
    }

    /// <summary>
    /// The events are already durable, so an eviction failure must not fail the request: it is logged, and the
    /// cache's own fail-safe handles Redis being away.
    /// </summary>
    private async Task EvictAsync(long[] userIds)
    {
        try
        {
            await cache.RemoveByTagAsync(userIds.Select(RankedListCache.UserTag), CancellationToken.None);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogWarning(ex, "Could not evict cached lists of {Count} users after new interactions.", userIds.Length);
        }
    }
}
