using Microsoft.Extensions.Caching.Hybrid;
using Npgsql;
using NpgsqlTypes;
using RecApp.Api.Recommendations;
using RecApp.Recommendations.Data;
using RecApp.Recommendations.Model;

namespace RecApp.Api.Interactions;

/// <summary>An event that passed validation.</summary>
public readonly record struct ValidInteraction(long UserId, long ItemId, InteractionType Type, float? Value, string? EventId, DateTime OccurredAt);

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
/// Stores interactions durably, then evicts the users' cached lists on every instance. Unknown users get a
/// <c>users</c> row; an <c>event_id</c> already stored counts as a duplicate (retries are safe). With a
/// <see cref="SourceDatabase"/> the catalog is the shop's: item ids are checked against it (those the in-process
/// catalog already has need no query, so a source outage does not stop known items' events), and the events still
/// go to <c>recdb</c>, never to the source.
/// </summary>
public sealed class InteractionWriter(
    NpgsqlDataSource dataSource, DatabaseWrites writes, HybridCache cache, ILogger<InteractionWriter> logger, IGlobalModel model,
    SourceDatabase? source = null)
{
    /// <summary>Returns the counts, or the unknown items when any event names one (then nothing is stored).</summary>
    public async Task<(InteractionsAccepted? Accepted, UnknownItems? Unknown)> WriteAsync(IReadOnlyList<ValidInteraction> events)
    {
        var userIds = events.Select(e => e.UserId).Distinct().ToArray();
        (InteractionsAccepted? Accepted, UnknownItems? Unknown) result;
        try
        {
            result = await writes.WithinTimeoutAsync((gate, cancellationToken) => StoreAsync(events, userIds, gate, cancellationToken));
        }
        catch (DatabaseWriteTimeoutException ex)
        {
            throw new InteractionsNotConfirmedException(ex.MayBeStored, ex);
        }
        if (result.Accepted is not null)
        {
            await EvictAsync(userIds);
        }
        return result;
    }

    private async Task<(InteractionsAccepted? Accepted, UnknownItems? Unknown)> StoreAsync(
        IReadOnlyList<ValidInteraction> events, long[] userIds, CommitGate gate, CancellationToken cancellationToken)
    {
        var itemIds = events.Select(e => e.ItemId).Distinct().ToArray();
        var committing = false;
        try
        {
            if (source is not null)
            {
                var catalog = model.Current.Catalog;
                var unknown = itemIds.Where(id => catalog.Find(id) is null).ToArray();
                var missing = unknown.Length == 0 ? [] : await source.MissingItemsAsync(unknown, cancellationToken);
                if (missing.Length > 0)
                {
                    return (null, new UnknownItems(missing));
                }
            }
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            if (source is null && await MissingItemsAsync(connection, itemIds, cancellationToken) is { Length: > 0 } missingHere)
            {
                return (null, new UnknownItems(missingHere));
            }

            // One transaction: the users rows and the events commit together. synchronous_commit is forced on for it,
            // whatever the server's default, because 202 promises the events survive a crash.
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await using var batch = new NpgsqlBatch(connection, transaction);
            batch.BatchCommands.Add(new NpgsqlBatchCommand("SET LOCAL synchronous_commit TO on"));
            var users = new NpgsqlBatchCommand("INSERT INTO users (id) SELECT unnest($1) ON CONFLICT (id) DO NOTHING");
            users.Parameters.Add(new NpgsqlParameter { Value = userIds, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint });
            batch.BatchCommands.Add(users);

            var insert = new NpgsqlBatchCommand("""
                INSERT INTO interactions (event_id, user_id, item_id, type, value, occurred_at)
                SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::smallint[], $5::real[], $6::timestamptz[])
                ON CONFLICT (event_id) DO NOTHING
                """);
            insert.Parameters.Add(new NpgsqlParameter { Value = events.Select(e => e.EventId).ToArray() });
            insert.Parameters.Add(new NpgsqlParameter { Value = events.Select(e => e.UserId).ToArray() });
            insert.Parameters.Add(new NpgsqlParameter { Value = events.Select(e => e.ItemId).ToArray() });
            insert.Parameters.Add(new NpgsqlParameter { Value = events.Select(e => (short)e.Type).ToArray() });
            insert.Parameters.Add(new NpgsqlParameter { Value = events.Select(e => e.Value).ToArray() });
            insert.Parameters.Add(new NpgsqlParameter { Value = events.Select(e => e.OccurredAt).ToArray() });
            batch.BatchCommands.Add(insert);
            await batch.ExecuteNonQueryAsync(cancellationToken);
            // From here the outcome is unknown if the connection fails: the commit may land with its answer lost.
            gate.Enter();
            committing = true;
            await transaction.CommitAsync(cancellationToken);
            var accepted = checked((int)insert.RecordsAffected);
            return (new InteractionsAccepted(accepted, events.Count - accepted), null);
        }
        catch (Exception ex) when (ex is not OperationCanceledException && Validation.ApiExceptionHandler.IsDatabaseOutage(ex))
        {
            throw new InteractionsNotConfirmedException(committing, ex);
        }
    }

    private static async Task<long[]> MissingItemsAsync(NpgsqlConnection connection, long[] itemIds, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "SELECT array_agg(w.id) FROM unnest($1::bigint[]) AS w(id) WHERE NOT EXISTS (SELECT 1 FROM items i WHERE i.id = w.id)",
            connection);
        command.Parameters.Add(new NpgsqlParameter { Value = itemIds });
        return await command.ExecuteScalarAsync(cancellationToken) as long[] ?? [];
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
